"""What a run reports while it trains: every loss term to `log.csv`, each validation to `val.csv`,
both to TensorBoard (`tb/`), and the progress: a tqdm bar in a terminal or a notebook, one plain
line per report anywhere else (a file, a pipe, `nohup`), where a bar's carriage-return redraws
would pile up into one unreadable line."""

from __future__ import annotations

import csv
import math
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable, TextIO

__all__ = ["CsvLog", "RunLogger", "PlainProgress", "progress_reporter", "LOG_NAME", "VALIDATION_LOG_NAME"]

LOG_NAME = "log.csv"  # one row per train.log_every iterations: every loss term, lr, seconds
VALIDATION_LOG_NAME = "val.csv"  # one row per validation: mIoU and each class's IoU
REPORT_SECONDS = 60.0  # outside a terminal: a progress line at least this often, whatever log_every
NOT_LOSS_TERMS = ("lr", "seconds")  # logged values the progress line shows apart from the terms

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

            self.writer = SummaryWriter(str(output / "tb"), purge_step=resume_iteration + 1)
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


# ------------------------------------------------------------------------------------ progress
def _duration(seconds: float) -> str:
    """'1:02:03' / '2:03'; '?' before a rate is known."""
    if not math.isfinite(seconds):
        return "?"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def progress_line(iteration: int, total: int, values: dict[str, float], rate: float) -> str:
    """'train 40/600 (7%) | total 1.234 seg_day 0.456 ... | lr 2.50e-04 | 1.25 it/s | ETA 7:28'."""
    names = sorted((name for name in values if name not in NOT_LOSS_TERMS), key=lambda name: name != "total")
    terms = " ".join(f"{name} {values[name]:.4g}" for name in names)  # the total first, then each term
    eta = (total - iteration) / rate if rate > 0 else math.inf
    parts = [f"train {iteration}/{total} ({100 * iteration // max(total, 1)}%)", terms]
    if "lr" in values:
        parts.append(f"lr {values['lr']:.2e}")
    parts += [f"{rate:.3g} it/s", f"ETA {_duration(eta)}"]
    return " | ".join(part for part in parts if part)


class PlainProgress:
    """Progress as plain lines, for logs: one line when the iteration is a multiple of `every`,
    when `seconds` have passed since the last line, and at the last iteration. The rate is over
    the iterations since the previous line."""

    def __init__(self, total: int, initial: int = 0, every: int = 10, seconds: float = REPORT_SECONDS,
                 stream: TextIO | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.total, self.every, self.seconds = total, max(1, every), seconds
        self.stream, self.clock = stream, clock
        self._last_iteration, self._last_time = initial, clock()

    def update(self, iteration: int, values: dict[str, float]) -> None:
        now = self.clock()
        due = iteration % self.every == 0 or iteration >= self.total or now - self._last_time >= self.seconds
        if not due:
            return
        elapsed = now - self._last_time
        rate = (iteration - self._last_iteration) / elapsed if elapsed > 0 else 0.0
        self.write(progress_line(iteration, self.total, values, rate))
        self._last_iteration, self._last_time = iteration, now

    def write(self, text: str) -> None:
        print(text, file=self.stream or sys.stderr, flush=True)

    def close(self) -> None:
        """Nothing to clear: every line is already complete."""


class BarProgress:
    """The tqdm bar of a terminal or a notebook, driven like `PlainProgress`."""

    def __init__(self, total: int, initial: int = 0, stream: TextIO | None = None) -> None:
        from tqdm.auto import tqdm

        self.bar = tqdm(total=total, initial=initial, desc="train", dynamic_ncols=True, file=stream)

    def update(self, iteration: int, values: dict[str, float]) -> None:
        self.bar.update(iteration - self.bar.n)
        if "total" in values:
            self.bar.set_postfix(loss=f"{values['total']:.3f}")

    def write(self, text: str) -> None:
        self.bar.write(text, file=self.bar.fp)

    def close(self) -> None:
        self.bar.close()


class NoProgress:
    """train.progress=false, or a rank other than 0: nothing is shown."""

    def update(self, iteration: int, values: dict[str, float]) -> None:
        pass

    def write(self, text: str) -> None:
        pass

    def close(self) -> None:
        pass


def redraws_in_place(stream: TextIO) -> bool:
    """Whether a progress bar on `stream` is redrawn in place: a terminal, or a Jupyter kernel
    (tqdm shows a widget there). A file or a pipe would keep every redraw."""
    try:
        if stream.isatty():
            return True
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False
    return "ipykernel" in sys.modules


def progress_reporter(total: int, initial: int = 0, enabled: bool = True, every: int = 10,
                      stream: TextIO | None = None) -> PlainProgress | BarProgress | NoProgress:
    """A training's progress on `stream` (default stderr): a bar where it redraws in place, else
    one plain line per `every` iterations (or per REPORT_SECONDS), else nothing when disabled."""
    if not enabled:
        return NoProgress()
    stream = stream or sys.stderr
    if redraws_in_place(stream):
        return BarProgress(total, initial, stream)
    return PlainProgress(total, initial, every, stream=stream)
