"""Loss curves of a run from its `log.csv` (one column per loss term; written and read by
ccdistill/runfolder/log.py), drawn once or live while the Trainer trains.

    plot_loss_curves("runs/toycity/log.csv", max_iterations=600)   # a Figure
    Trainer(config, hooks=[LiveLossCurves(config)]).fit()           # redrawn in the notebook

The live figure is an ordinary matplotlib Figure shown through IPython's `display(...,
display_id=True)` and replaced in place (`update`), so it needs no widget and no JavaScript:
a notebook stored after the run shows the last frame, and outside IPython nothing is shown.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, Mapping

import numpy as np
from matplotlib.figure import Figure

from ccdistill.runfolder.log import loss_terms, read_log

PANELS_PER_ROW = 4
MIN_REDRAW_SECONDS = 2.0  # a redraw (JPEG of a few panels) costs ~0.1 s: at most one per 2 s


def plot_loss_curves(
    log: str | os.PathLike | Mapping[str, np.ndarray],
    max_iterations: int | None = None,
    title: str = "",
    dpi: float = 100,
) -> Figure:
    """One panel per logged loss term against the iteration.

    Args:
        log: a run's log.csv path (or its `read_log` dict).
        max_iterations: the run's length: the x axes span 0..max_iterations, so a live plot
            shows how far training is; None: the logged range.
        title: the figure's title (default: "iteration i of n").
        dpi: figure resolution.

    Returns:
        The figure (values are the unweighted terms; `total` is the weighted sum).
    """
    values = log if isinstance(log, Mapping) else read_log(log)
    terms = loss_terms(values)
    rows = max(1, -(-len(terms) // PANELS_PER_ROW))
    columns = max(1, min(PANELS_PER_ROW, len(terms)))
    figure = Figure(figsize=(2.6 * columns, 1.9 * rows + 0.4), dpi=dpi, layout="constrained")
    axes = np.atleast_1d(figure.subplots(rows, columns, squeeze=False)).ravel()
    iterations = values.get("iteration", np.zeros(0))
    for index, (ax, term) in enumerate(zip(axes, terms)):
        ax.plot(iterations, values[term], color="#08519c" if term != "total" else "black", linewidth=1.2,
                marker="." if len(iterations) < 40 else None, markersize=3)
        ax.set_title(term if term != "total" else "total (weighted)", fontsize=9)
        ax.tick_params(labelsize=8)
        if index >= len(terms) - columns:  # the lowest panel of each column
            ax.set_xlabel("iteration", fontsize=8)
        if index % columns == 0:
            ax.set_ylabel("loss (unweighted)" if term != "total" else "loss", fontsize=8)
        if max_iterations:
            ax.set_xlim(0, max_iterations)
    for ax in axes[len(terms):]:
        ax.set_axis_off()
    if not terms:
        axes[0].text(0.5, 0.5, "nothing logged yet", ha="center", va="center", transform=axes[0].transAxes)
    last = int(iterations[-1]) if len(iterations) else 0
    figure.suptitle(title or f"iteration {last}" + (f" of {max_iterations}" if max_iterations else ""), fontsize=10)
    return figure


def in_kernel() -> bool:
    """Whether this runs in an IPython kernel (a notebook), where figures can be displayed."""
    return _display() is not None


def _display() -> Any:
    """IPython's `display` when running in a kernel (None elsewhere: tests, scripts)."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        return None
    shell = get_ipython()
    return display if shell is not None and getattr(shell, "kernel", None) is not None else None


class LiveLossCurves:
    """Trainer hook: redraws `plot_loss_curves` of the run's log.csv in the notebook while it trains.

    Called as hook(event, trainer); on "after_step" it redraws when log.csv has grown and at
    least `min_seconds` passed since the last frame; `finish()` draws the final frame.

    Args:
        log_path: the run's log.csv (`Path(config.output) / "log.csv"`).
        max_iterations: the run's length (x axes).
        min_seconds: the shortest time between two frames.
        show: display in the running IPython kernel (None: when there is one).
    """

    def __init__(self, log_path: str | os.PathLike, max_iterations: int | None = None,
                 min_seconds: float = MIN_REDRAW_SECONDS, show: bool | None = None) -> None:
        self.log_path, self.max_iterations, self.min_seconds = Path(log_path), max_iterations, min_seconds
        self.display = _display() if show is None or show else None
        self.handle: Any = None
        self.frames = 0
        self._last_size, self._last_time = -1, -float("inf")
        self.figure: Figure | None = None

    def _log_size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except FileNotFoundError:
            return 0

    def draw(self) -> Figure:
        """Draw a frame now (and show it); returns the figure."""
        self.figure = plot_loss_curves(self.log_path, self.max_iterations)
        self.frames += 1
        self._last_size, self._last_time = self._log_size(), time.monotonic()
        if self.display is not None:
            if self.handle is None:
                self.handle = self.display(self.figure, display_id=True)
            else:
                self.handle.update(self.figure)
        return self.figure

    def __call__(self, event: str, trainer: Any = None) -> None:
        if event != "after_step":
            return
        if self._log_size() != self._last_size and time.monotonic() - self._last_time >= self.min_seconds:
            self.draw()

    def finish(self) -> Figure:
        """The final frame (every row logged)."""
        return self.draw()
