"""`timing.json`: the cumulative training seconds of a run at each of its checkpoints, so the time
of a run trained over several sittings is the time of the steps that count (steps lost to a kill
and redone are timed once, when redone). Written by the experiments' runner (`StepTimer`, a
Trainer hook), read by its status and result files (`read_timing`)."""

from __future__ import annotations

import time
from pathlib import Path

from ccdistill.runfolder.files import read_json, write_json_atomic
from ccdistill.runfolder.names import TIMING_NAME

__all__ = ["StepTimer", "read_timing"]


def read_timing(run_folder: Path) -> dict:
    path = run_folder / TIMING_NAME
    return read_json(path) if path.is_file() else {"checkpoints": {}, "sittings": 0}


class StepTimer:
    """Trainer hook: cumulative training seconds at every checkpoint iteration, written to
    timing.json (atomically) so that the next sitting resumes the clock with the checkpoint."""

    def __init__(self, run_folder: Path, checkpoint_every: int, max_iterations: int) -> None:
        self.path = run_folder / TIMING_NAME
        self.checkpoint_every, self.max_iterations = checkpoint_every, max_iterations
        self.timing = read_timing(run_folder)
        self.started = time.perf_counter()
        self.base, self.complete = 0.0, True

    def begin(self, iteration: int) -> None:
        """Called once the Trainer has resumed to `iteration`."""
        if iteration > 0:
            known = self.timing["checkpoints"].get(str(iteration))
            self.complete = known is not None and self.timing.get("complete", True)
            self.base = float(known) if known is not None else 0.0
        self.timing["sittings"] = int(self.timing.get("sittings", 0)) + 1
        self.timing["complete"] = self.complete

    def seconds(self) -> float:
        return self.base + time.perf_counter() - self.started

    def record(self, iteration: int) -> None:
        self.timing["checkpoints"][str(iteration)] = round(self.seconds(), 3)
        write_json_atomic(self.timing, self.path)

    def __call__(self, event: str, trainer) -> None:
        if event == "after_step" and (trainer.iteration % self.checkpoint_every == 0
                                      or trainer.iteration == self.max_iterations):
            self.record(trainer.iteration)
