"""One registry row of the ablation lab trained under a notebook's profile (notebook 06), so
that a student adds a run of their own beside the table's (its configuration is
`ccdistill.experiments.lab.lab_config`)."""

from __future__ import annotations

from typing import Any

from ccdistill.experiments.lab import LAB_FRACTION, lab_config, stage_one_config
from ccdistill.experiments.registry import Registry, load_registry
from ccdistill.workflow.runs import status_on_stdout, train_or_load

__all__ = ["train_row"]


def train_row(session: Any, row: str, seed: int = 0, fraction: float = LAB_FRACTION,
              registry: Registry | None = None) -> tuple[Any, Any]:
    """Train (or load, when finished) the session's stage-1 run, then registry `row` from it
    for `fraction` of the profile's iterations (`lab_config`), both with `train_or_load` and
    no live figure; status lines go to stdout (`status_on_stdout`).

    Returns:
        (stage one, the row's run): two `ccdistill.workflow.TrainedRun`s.
    """
    registry = registry or load_registry()
    config = lab_config(session, row, seed, fraction, registry)
    with status_on_stdout(session.project):
        first = train_or_load(stage_one_config(session, registry.row(row).init_from or "source_only", registry),
                              live=False)
        run = train_or_load(config, live=False)
    return first, run
