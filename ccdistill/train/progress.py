"""A training's progress: a tqdm bar in a terminal or a notebook, one plain line per report
anywhere else (a file, a pipe, `nohup`), where a bar's carriage-return redraws would pile up into
one unreadable line. What the run writes to its folder meanwhile is ccdistill/runfolder/log.py."""

from __future__ import annotations

import math
import sys
import time
from typing import Callable, TextIO

from ccdistill.runfolder.log import NOT_LOSS_TERMS

__all__ = ["PlainProgress", "BarProgress", "NoProgress", "progress_line", "progress_reporter", "redraws_in_place"]

REPORT_SECONDS = 60.0  # outside a terminal: a progress line at least this often, whatever log_every


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
