"""The ToyCity experiment registry (issue 10): which runs make docs/RESULTS.md, and the machinery
that runs them resumably, one at a time, and turns their result files into the table and figures.

- ``registry.yaml`` — the rows: id, config, variant, overrides, seeds, the paper claim tested;
- ``registry``      — :func:`load_registry`, :func:`run_config` (the resolved Config of a run);
- ``runner``        — :class:`Runner`: train (resume), evaluate, write one result JSON per run;
- ``evaluation``    — the deployed model on target-night val/test (and the domain-shift splits);
- ``results``       — the result-file format, atomic JSON writes;
- ``table``         — docs/RESULTS_TABLE.md from the result files only;
- ``figures``       — predictions, loss curves, correlation matrices, per-class IoU;
- ``cli``           — ``python -m ccdistill.experiments run|status|table|figures``.
"""

from ccdistill.experiments.registry import REGISTRY_FILE, Registry, Row, Run, load_registry, run_config
from ccdistill.experiments.runner import Runner

__all__ = ["REGISTRY_FILE", "Registry", "Row", "Run", "Runner", "load_registry", "run_config"]
