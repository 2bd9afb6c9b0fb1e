"""Whether a new configuration may continue the run in a folder, and the folder's configuration
history (written here, read here).

`train.resume` (the one setting, read by the Trainer):
- "auto" (default): resume from the newest `ckpt_<7 digits>.pt` if there is one; refuse when
  the stored configuration differs from the new one in any key outside `RESUME_SAFE_KEYS`,
  naming each changed key old → new;
- "force": resume despite differences; they are recorded in `config.resume-<iteration>.yaml`;
- "fresh": start a new run; the previous run's files are moved aside to a sibling folder
  `<output>.previous-<date>-<time>` (never deleted).

The configuration history: `config.yaml` holds the first part of a run, each resume writes
`config.resume-<iteration>.yaml` (a record; config.yaml is never overwritten on resume);
`stored_config` reads back the newest.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

import yaml

from ccdistill.config import Config, config_to_dict, flatten
from ccdistill.config.schema import RESUME_MODES
from ccdistill.errors import ConfigError
from ccdistill.runfolder.names import (
    BEST_NAME, CHECKPOINT_GLOB, CONFIG_NAME, CONFIG_RESUME_GLOB, RUN_FILES, checkpoint_iteration, history_name,
)

__all__ = ["RESUME_MODES", "RESUME_SAFE_KEYS", "RESUME_NOTED_KEYS", "ResumeConfigError", "training_checkpoints",
           "newest_checkpoint_iteration", "prune_checkpoints", "config_changes",
           "describe_changes", "refuse_changes", "history_path", "write_history", "stored_config", "first_config",
           "move_run_aside"]

# Keys that may change between the parts of one run without changing what is trained: where
# and how fast it runs, how often it reports or saves, and the initial weights (which the
# checkpoint replaces). Everything else -- the variant, losses, optimiser, schedule
# (max_iterations sets the poly decay and the warm-up), data, seed, batch size -- changes the
# result and needs train.resume=force.
RESUME_SAFE_KEYS = frozenset({
    "output", "train.resume", "train.device", "train.progress", "train.log_every", "train.val_every",
    "train.val_max_images", "train.checkpoint_every", "train.keep_last", "train.deterministic",
    "data.num_workers", "model.weights", "model.init_checkpoint",
})

# Keys that may change on resume, but change what follows, so the Trainer announces them and
# records them in the history: a longer or shorter run (the poly decay and the warm-up follow
# the new length from the resumed iteration on).
RESUME_NOTED_KEYS = frozenset({"train.max_iterations"})


class ResumeConfigError(ConfigError):
    """The configuration of a resumed run differs from the stored one."""


def training_checkpoints(folder: Path) -> list[Path]:
    """`ckpt_<7 digits>.pt` files of a run folder, oldest first (by iteration, not by name)."""
    found = [(iteration, p) for p in Path(folder).glob(CHECKPOINT_GLOB)
             if (iteration := checkpoint_iteration(p.name)) is not None and p.is_file()]
    return [p for _, p in sorted(found)]


def newest_checkpoint_iteration(folder: Path) -> int:
    """Iteration of the newest `ckpt_<7 digits>.pt` in `folder` (0 when none)."""
    found = training_checkpoints(folder)
    return checkpoint_iteration(found[-1].name) if found else 0


def prune_checkpoints(folder: Path) -> list[Path]:
    """Delete best.pt and every `ckpt_<7 digits>.pt` but the newest (a finished, evaluated run
    keeps deploy.pt, its last checkpoint and its logs); returns what was deleted."""
    best = Path(folder) / BEST_NAME
    doomed = training_checkpoints(folder)[:-1] + ([best] if best.is_file() else [])
    for path in doomed:
        path.unlink()
    return doomed


def config_changes(stored: dict, config: Config,
                   ignore: frozenset[str] = RESUME_SAFE_KEYS) -> dict[str, tuple[Any, Any]]:
    """{key: (stored value, new value)} for every key that differs, keys in `ignore` excluded.

    A key the stored config lacks (added to the package later) counts as its default."""
    new = flatten(config_to_dict(config))
    old = flatten(stored or {})
    defaults = flatten(config_to_dict(Config()))
    changes = {}
    for key, value in new.items():
        if key in ignore:
            continue
        before = old.get(key, defaults.get(key))
        if before != value:
            changes[key] = (before, value)
    return changes


def describe_changes(changes: dict[str, tuple[Any, Any]]) -> str:
    return "; ".join(f"{key}: {old!r} -> {new!r}" for key, (old, new) in changes.items())


def refuse_changes(checkpoint: Path, changes: dict[str, tuple[Any, Any]], output: Path) -> ResumeConfigError:
    return ResumeConfigError(
        f"cannot resume {checkpoint} with a different configuration; changed: {describe_changes(changes)}. "
        f"Keep the old values to continue that run, set train.resume=force to continue it with the new "
        f"values (recorded in {output}/config.resume-<iteration>.yaml), train.resume=fresh to start a "
        f"new run (the old one is moved aside, not deleted), or choose another output= folder")


def history_path(output: Path, iteration: int) -> Path:
    """Where the configuration of the part starting at `iteration` is recorded."""
    return output / history_name(iteration)


def write_history(config: Config, output: Path, iteration: int, note: str = "") -> Path:
    """Record the configuration of the part of the run that starts at `iteration`."""
    path = history_path(output, iteration)
    header = "".join(f"# {line}\n" for line in note.splitlines()) if note else ""
    path.write_text(header + yaml.safe_dump(config_to_dict(config), sort_keys=False))
    return path


def stored_config(folder: str | os.PathLike) -> dict | None:
    """The configuration the run in `folder` was last trained with, as a plain dict: its newest
    `config.resume-<iteration>.yaml`, else `config.yaml`; None when it holds neither."""
    folder = Path(folder)
    history = sorted(folder.glob(CONFIG_RESUME_GLOB)) or [folder / CONFIG_NAME]
    if not history[-1].is_file():
        return None
    return yaml.safe_load(history[-1].read_text(encoding="utf-8"))


def first_config(folder: str | os.PathLike) -> dict | None:
    """The configuration the run in `folder` started with (`config.yaml`), as a plain dict; None
    when the folder holds none."""
    path = Path(folder) / CONFIG_NAME
    return yaml.safe_load(path.read_text()) if path.is_file() else None


def move_run_aside(output: Path, keep: tuple[str, ...] = ()) -> Path | None:
    """Move the files a training wrote in `output` to a new sibling folder; returns it (None if
    there was nothing to move). Files of other tools and the names in `keep` stay."""
    entries = sorted({p for pattern in RUN_FILES for p in output.glob(pattern) if p.name not in keep})
    if not entries:
        return None
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = output.with_name(f"{output.name}.previous-{stamp}")
    suffix = 1
    while target.exists():
        suffix += 1
        target = output.with_name(f"{output.name}.previous-{stamp}-{suffix}")
    target.mkdir()
    for entry in entries:
        shutil.move(str(entry), str(target / entry.name))
    return target
