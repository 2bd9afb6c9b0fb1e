"""The run folder as a training sees it: locked by rank 0 for as long as a Trainer uses it, made
ready for `train.resume` (a fresh run moves the old one aside; an interrupted run's temporaries
are removed), its checkpoints and its configuration history; what the user is told about it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

from ccdistill.runfolder.checkpoint import remove_orphaned_temporaries
from ccdistill.config import Config
from ccdistill.runtime.distributed import DistributedContext
from ccdistill.errors import CCDistillError, ConfigError
from ccdistill.runfolder.lock import RunLock, RunLockedError
from ccdistill.runfolder.names import (
    ENVIRONMENT_NAME, LEFTOVERS, LOCK_NAME, RUN_FILES, RUN_FOLDERS, checkpoint_iteration,
)
from ccdistill.runfolder.resume import describe_changes, move_run_aside, training_checkpoints, write_history

__all__ = ["RunFolder", "misplaced_entries"]


def misplaced_entries(output: Path) -> list[str]:
    """'<name> is a folder' / '<name> is a file' for each entry of `output` that a training must
    write as the other kind: found before training, not when the first save fails."""
    found = []
    for pattern in RUN_FILES:
        if pattern in LEFTOVERS:
            continue
        for entry in sorted(output.glob(pattern)):
            if pattern in RUN_FOLDERS and not entry.is_dir():
                found.append(f"{entry.name} is a file (training writes TensorBoard logs into a folder of that name)")
            elif pattern not in RUN_FOLDERS and entry.is_dir():
                found.append(f"{entry.name} is a folder (training writes a file of that name)")
    return found


class RunFolder:
    """One run folder, locked across ranks. `messages` holds every line the user was told (the
    notebooks show them); `say` prints on the main rank only."""

    def __init__(self, output: Path, context: DistributedContext) -> None:
        self.output, self.context = output, context
        self.messages: list[str] = []
        self.lock = RunLock(output)

    def say(self, message: str) -> None:
        """Tell the user (stderr, main rank) and keep the line in `messages` for notebooks."""
        self.messages.append(message)
        if self.context.is_main:
            print(f"ccdistill: {message}", file=sys.stderr, flush=True)

    def checkpoints(self) -> list[Path]:
        """The run's `ckpt_<7 digits>.pt` files, oldest first (sorted by iteration)."""
        return training_checkpoints(self.output)

    def acquire(self) -> None:
        """Rank 0 locks the folder; every rank learns whether it could."""
        error: CCDistillError | None = None
        if self.context.is_main:
            try:
                self.lock.acquire()
            except CCDistillError as raised:
                error = raised
        if not self.context.all_true(error is None):
            raise error or RunLockedError(f"rank 0 could not lock the run folder {self.output}; see its message")
        for message in self.lock.messages:
            self.say(message)
        self.lock.messages.clear()

    def acquire_again(self, iteration: int) -> None:
        """A second fit() of a Trainer (at `iteration`) locks the folder again, provided nothing
        else trained there in between (its state would be older than the folder's)."""
        if self.context.all_true(self.lock.held or not self.context.is_main):
            return
        self.acquire()
        newest = self.checkpoints()
        newest_iteration = checkpoint_iteration(newest[-1].name) if newest else 0
        if newest_iteration > iteration:
            self.lock.release()
            raise RunLockedError(
                f"{self.output} was trained further by another Trainer or process since this one was created "
                f"(newest checkpoint {newest[-1].name}, this Trainer is at iteration {iteration}); create "
                "a new Trainer to continue from the folder")

    def release(self) -> None:
        self.lock.release()

    def prepare(self, mode: str) -> None:
        """Rank 0 moves a previous run aside (mode "fresh"), removes what an interrupted run left
        half-written and refuses a folder holding a folder where a file is written (or the
        reverse); every rank waits for it."""
        error: ConfigError | None = None
        if self.context.is_main:
            if mode == "fresh":
                moved = move_run_aside(self.output, keep=(LOCK_NAME,))
                if moved is not None:
                    self.say(f"train.resume=fresh: moved the previous run in {self.output} to {moved}")
            removed = remove_orphaned_temporaries(self.output)
            if removed:
                self.say(f"removed {len(removed)} unfinished temporary file(s) left in {self.output} by an "
                         f"interrupted run (e.g. {removed[0].name})")
            misplaced = misplaced_entries(self.output)
            if misplaced:
                error = ConfigError(
                    f"the run folder {self.output} cannot be written: {'; '.join(misplaced)}; move or rename "
                    "those entries, or choose another output= folder")
        if not self.context.all_true(error is None):
            raise error or ConfigError(f"rank 0 found the run folder {self.output} unusable; see its message")

    def record_config(self, config: Config, iteration: int, resumed_from: Path | None, changes: dict) -> None:
        """config.yaml for the first part of a run; config.resume-<iteration>.yaml for a resumed
        part whose configuration differs from the stored one (never overwrites config.yaml)."""
        if resumed_from is None:
            write_history(config, self.output, 0)
        elif changes:
            note = (f"resumed from {resumed_from.name} at iteration {iteration} with train.resume="
                    f"{config.train.resume}; changed: {describe_changes(changes)}")
            write_history(config, self.output, iteration, note)

    def record_environment(self, iteration: int, device: Any = None) -> Path:
        """Append this start's (or resume's) environment to environment.yaml: versions, threads,
        device, git commit (`ccdistill.runtime.doctor.environment`), one YAML document per start."""
        from ccdistill.runtime.doctor import environment

        path = self.output / ENVIRONMENT_NAME
        document = yaml.safe_dump(environment(device, iteration), sort_keys=False)
        with open(path, "a", encoding="utf-8") as file:
            file.write(f"---\n{document}")
        return path
