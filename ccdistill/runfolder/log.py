"""A run's logs: every loss term to `log.csv`, each validation to `val.csv`, both to TensorBoard
(`tb/`), written by `RunLogger` while the run trains and read back by `read_log` (the loss
curves, the experiments' figures). The progress shown meanwhile is ccdistill/train/progress.py."""

from __future__ import annotations

import csv
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from ccdistill.runfolder.names import LOG_NAME, TENSORBOARD_FOLDER, VALIDATION_LOG_NAME

__all__ = ["CsvLog", "RunLogger", "read_log", "loss_terms", "NOT_LOSS_TERMS"]

NOT_LOSS_TERMS = ("lr", "seconds")  # logged values that are not loss terms (besides the iteration)

Announce = Callable[[str], None]


def _stderr_announce(message: str) -> None:
    print(f"ccdistill: {message}", file=sys.stderr)


class CsvLog:
    """One CSV file of a run folder whose first column is `iteration`, appended to as the run
    goes. On resume, rows past the resumed iteration (logged by the interrupted run) are dropped
    so the file has no repeats; unreadable rows (a write cut by a kill, a hand edit) are dropped
    too, after the original file is kept beside it as `<name>.damaged-<time>`."""

    def __init__(self, path: Path, announce: Announce = _stderr_announce) -> None:
        self.path, self._announce = path, announce
        self.columns: list[str] | None = None

    def resume(self, iteration: int) -> None:
        """Keep the readable rows up to `iteration` of an existing file."""
        if not self.path.exists():
            return
        columns, rows = self._read_rows()
        if columns:
            self.columns = columns
            self._rewrite([row for row in rows if int(row["iteration"]) <= iteration])

    def _read_rows(self) -> tuple[list[str] | None, list[dict]]:
        """(columns, readable rows) of the existing file; a damaged file is kept aside."""
        problem, columns, rows = "", None, []
        try:
            text = self.path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            text, problem = "", "it is not UTF-8 text"
        reader = csv.DictReader(text.splitlines())
        if not problem and text.strip():
            if not reader.fieldnames or reader.fieldnames[0] != "iteration":
                problem = f"its header {reader.fieldnames!r} does not start with 'iteration'"
            else:
                columns = list(reader.fieldnames)
                bad = 0
                for row in reader:
                    if None in row or None in row.values() or not str(row["iteration"]).strip().isdigit():
                        bad += 1
                    else:
                        rows.append(row)
                if bad:
                    problem = f"{bad} row(s) could not be read"
        if problem:
            kept = self.path.with_name(f"{self.path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
            os.replace(self.path, kept)
            self._announce(f"{self.path}: {problem}; the original is kept as {kept.name} and the log "
                           "continues with the readable rows")
        return columns, rows

    def _rewrite(self, rows: list[dict]) -> None:
        temporary = self.path.with_name(f"{self.path.name}.tmp")
        with open(temporary, "w", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=self.columns)
            writer.writeheader()
            writer.writerows(rows)
        os.replace(temporary, self.path)

    def append(self, iteration: int, values: dict[str, Any]) -> None:
        """One row; the first row written fixes the columns (later unknown keys are ignored)."""
        if self.columns is None:
            self.columns = ["iteration", *values.keys()]
            self._rewrite([])
        with open(self.path, "a", newline="") as file:
            csv.DictWriter(file, fieldnames=self.columns, extrasaction="ignore").writerow(
                {"iteration": iteration, **values})


class RunLogger:
    """`log.csv` (every loss term), `val.csv` (each validation) and TensorBoard (`tb/`) of a run.
    Both CSV files are resumed as `CsvLog` says; TensorBoard purges the steps past the resumed
    iteration itself."""

    def __init__(self, output: Path, enabled: bool = True, resume_iteration: int = 0,
                 announce: Announce | None = None) -> None:
        announce = announce or _stderr_announce
        self.enabled, self.path = enabled, output / LOG_NAME
        self.losses = CsvLog(self.path, announce)
        self.validations = CsvLog(output / VALIDATION_LOG_NAME, announce)
        self.writer = None
        if not enabled:
            return
        output.mkdir(parents=True, exist_ok=True)
        self.losses.resume(resume_iteration)
        self.validations.resume(resume_iteration)
        try:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(str(output / TENSORBOARD_FOLDER), purge_step=resume_iteration + 1)
        except ImportError:  # tensorboard is a dependency, but logging must not stop training
            self.writer = None

    @property
    def columns(self) -> list[str] | None:
        return self.losses.columns

    def log(self, iteration: int, values: dict[str, float]) -> None:
        if not self.enabled:
            return
        self.losses.append(iteration, values)
        for name, value in values.items():
            self.scalar(f"train/{name}", value, iteration)

    def validation(self, iteration: int, result: dict, class_names: list[str]) -> None:
        """A validation result (`ConfusionMatrix.compute`): mIoU and each class's IoU ('nan' for a
        class absent from both the labels and the prediction)."""
        if not self.enabled:
            return
        per_class = [float(value) for value in result["per_class_iou"]]
        row = {"miou": float(result["miou"]),
               **{f"iou_{name.replace(' ', '_')}": value for name, value in zip(class_names, per_class)}}
        self.validations.append(iteration, row)
        self.scalar("val/miou", row["miou"], iteration)

    def scalar(self, name: str, value: float, iteration: int) -> None:
        if self.enabled and self.writer is not None:
            self.writer.add_scalar(name, value, iteration)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def read_log(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """log.csv -> {column: float values}, iteration first ({} for a missing or empty file)."""
    path = Path(path)
    if not path.is_file():
        return {}
    with open(path, newline="") as file:
        rows = list(csv.DictReader(file))
    return {key: np.asarray([float(row[key]) for row in rows]) for key in (rows[0] if rows else {})}


def loss_terms(log: Mapping[str, np.ndarray]) -> list[str]:
    """The loss-term columns of a log, `total` first, in the order the trainer logged them."""
    terms = [name for name in log if name != "iteration" and name not in NOT_LOSS_TERMS]
    return sorted(terms, key=lambda name: name != "total")
