"""What a run reports while it trains: every loss term to `log.csv` and TensorBoard (`tb/`), and
the progress bar."""

from __future__ import annotations

import csv
import os
import sys
import time
from pathlib import Path
from typing import Callable

__all__ = ["RunLogger", "progress_bar"]


class RunLogger:
    """CSV (`log.csv`) and TensorBoard (`tb/`) logs of every loss term. On resume, CSV rows past
    the resumed iteration (logged by the interrupted run) are dropped so the log has no repeats;
    unreadable rows (a write cut by a kill, a hand edit) are dropped too, after the original file
    is kept beside it as `log.csv.damaged-<time>`."""

    def __init__(self, output: Path, enabled: bool = True, resume_iteration: int = 0,
                 announce: Callable[[str], None] | None = None) -> None:
        self.enabled, self.path = enabled, output / "log.csv"
        self.columns: list[str] | None = None
        self.writer = None
        self._announce = announce or (lambda message: print(f"ccdistill: {message}", file=sys.stderr))
        if not enabled:
            return
        output.mkdir(parents=True, exist_ok=True)
        if self.path.exists():
            columns, rows = self._read_rows()
            if columns:
                self.columns = columns
                self._rewrite([row for row in rows if int(row["iteration"]) <= resume_iteration])
        try:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(str(output / "tb"), purge_step=resume_iteration + 1)
        except ImportError:  # tensorboard is a dependency, but logging must not stop training
            self.writer = None

    def _read_rows(self) -> tuple[list[str] | None, list[dict]]:
        """(columns, readable rows) of an existing log.csv; damaged files are kept aside."""
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
            kept = self.path.with_name(f"log.csv.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
            os.replace(self.path, kept)
            self._announce(f"{self.path}: {problem}; the original is kept as {kept.name} and the log "
                           "continues with the readable rows")
        return columns, rows

    def _rewrite(self, rows: list[dict]) -> None:
        temporary = self.path.with_suffix(".csv.tmp")
        with open(temporary, "w", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=self.columns)
            writer.writeheader()
            writer.writerows(rows)
        os.replace(temporary, self.path)

    def log(self, iteration: int, values: dict[str, float]) -> None:
        if not self.enabled:
            return
        if self.columns is None:
            self.columns = ["iteration", *values.keys()]
            self._rewrite([])
        with open(self.path, "a", newline="") as file:
            csv.DictWriter(file, fieldnames=self.columns, extrasaction="ignore").writerow(
                {"iteration": iteration, **values})
        for name, value in values.items():
            self.scalar(f"train/{name}", value, iteration)

    def scalar(self, name: str, value: float, iteration: int) -> None:
        if self.enabled and self.writer is not None:
            self.writer.add_scalar(name, value, iteration)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def progress_bar(total: int, initial: int = 0, enabled: bool = True):
    """The tqdm bar of a training (disabled: a no-op bar, e.g. on ranks other than 0)."""
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, disable=not enabled, desc="train", dynamic_ncols=True)
