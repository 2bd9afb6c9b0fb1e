"""Ablation explorer: the registry's result files, chosen rows and a class group, with one
paired comparison (notebook 06; `ccdistill.experiments.lab` computes and draws every panel).

    collected = load_results("results/toycity")
    explorer = AblationExplorer(collected)          # rows, class group, pair a/b
    explorer.update(group="dynamic", a="full", b="pseudo")
    explorer.last["pair"].mean                      # a − b on the dynamic classes' test mIoU
    plot_ablation(collected)                        # the same figure without widgets

Unlike the other explorers the figure is redrawn whole on each update (the number of rows and
classes changes the layout, so there is no static background to blit); the panels are bar and
dot plots, a few milliseconds each.
"""

from __future__ import annotations

import html
import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

from ccdistill.errors import InputError
from ccdistill.experiments.lab import (
    GROUPS, Pair, compare, describe_missing, describe_pair, in_group, plot_class_iou, plot_pairs, plot_seeds,
)
from ccdistill.experiments.table import RowResults, mean_std
from ccdistill.viz._common import DEFAULT_DPI, Explorer, figure_to_png, new_figure, save_figure, widgets

DEFAULT_ROWS: tuple[str, ...] = ("source_only", "seg_night", "pseudo", "full", "oracle")
DEFAULT_PAIR: tuple[str, str] = ("full", "pseudo")
FIGSIZE = (11.0, 6.6)


def compute_ablation(collected: Sequence[RowResults], rows: Sequence[str] = DEFAULT_ROWS, group: str = "all",
                     a: str = DEFAULT_PAIR[0], b: str = DEFAULT_PAIR[1]) -> dict[str, Any]:
    """What the explorer shows for one choice of controls.

    Returns:
        {"rows": the chosen rows, "group", "means": {row: (mean, std) of the group's test mIoU
        over its seeds, fractions; NaN without results}, "pair": lab.Pair a − b on the group,
        "missing": a sentence naming rows without result files, "collected": the input}.
    """
    if not rows:
        raise InputError("choose at least one row")
    grouped = {row.row.id: row for row in in_group(collected, group)}
    unknown = [r for r in (*rows, a, b) if r not in grouped]
    if unknown:
        raise InputError(f"no registry row {', '.join(map(repr, unknown))}; rows: {', '.join(grouped)}")
    means = {r: mean_std(list(grouped[r].values("test").values())) for r in rows}
    return {"rows": tuple(rows), "group": group, "a": a, "b": b, "means": means,
            "pair": compare(collected, a, b, group), "missing": describe_missing(collected, [*rows, a, b]),
            "collected": collected}


def draw_ablation(figure: Any, last: Mapping[str, Any]) -> Any:
    """Draw `compute_ablation`'s result into `figure` (cleared first): the rows' seeds and mean ±
    std, their per-class IoU in the group, and the chosen pair a − b per seed with its band."""
    figure.clear()
    grid = figure.add_gridspec(2, 2, width_ratios=(1.4, 1.0), height_ratios=(1.0, 1.1))
    collected, rows, group = last["collected"], list(last["rows"]), last["group"]
    plot_seeds(collected, rows, group, ax=figure.add_subplot(grid[0, 0]))
    plot_pairs(collected, [(last["a"], last["b"])], group, ax=figure.add_subplot(grid[0, 1]))
    plot_class_iou(collected, rows, group, ax=figure.add_subplot(grid[1, :]))
    return figure


def plot_ablation(collected: Sequence[RowResults], rows: Sequence[str] = DEFAULT_ROWS, group: str = "all",
                  pair: tuple[str, str] = DEFAULT_PAIR, dpi: float = 100,
                  save: str | os.PathLike | None = None) -> Any:
    """The explorer's figure for these controls, as a matplotlib Figure (saved to `save`);
    needs no ipywidgets. With the defaults it is what `AblationExplorer(collected)` shows first."""
    figure = new_figure(FIGSIZE, dpi)
    figure.set_layout_engine("constrained")
    draw_ablation(figure, compute_ablation(collected, rows, group, *pair))
    return save_figure(figure, save)


class AblationView:
    """The explorer's figure, redrawn whole per update (see the module docstring)."""

    def __init__(self, dpi: float = DEFAULT_DPI) -> None:
        self.figure = new_figure(FIGSIZE, dpi)
        self.figure.set_layout_engine("constrained")

    def png(self, last: Mapping[str, Any]) -> bytes:
        return figure_to_png(draw_ablation(self.figure, last))


def _pct(value: float) -> str:
    return "—" if not math.isfinite(value) else f"{100 * value:.2f}"


class AblationExplorer(Explorer):
    """Choose registry rows, a class group and a pair (a, b): the rows' per-seed test mIoU and
    per-class IoU in the group, and a − b per seed with the larger seed std as a band.

    Args:
        collected: `ccdistill.experiments.lab.load_results(...)` (every registry row, with or
            without result files; rows without any are shown as missing).
        rows: the rows shown first.
        group: "all", "static" (trainIds 0-10) or "dynamic" (11-18).
        pair: (a, b) of the comparison a − b.
    """

    def __init__(self, collected: Sequence[RowResults], rows: Sequence[str] = DEFAULT_ROWS, group: str = "all",
                 pair: tuple[str, str] = DEFAULT_PAIR) -> None:
        w = widgets()
        self.collected = list(collected)
        names = [row.row.id for row in self.collected]
        compute_ablation(self.collected, rows, group, *pair)  # unknown names fail here, in one sentence
        self.controls = {
            "rows": w.SelectMultiple(options=names, value=tuple(rows), rows=min(8, len(names)), description="rows"),
            "group": w.Dropdown(options=GROUPS, value=group, description="classes"),
            "a": w.Dropdown(options=names, value=pair[0], description="a"),
            "b": w.Dropdown(options=names, value=pair[1], description="b − "),
        }
        self.view = AblationView()
        self._build()

    def update(self, **values: Any) -> dict[str, Any]:
        """As `Explorer.update`; `rows` takes a list or tuple of row ids (a multi-select)."""
        rows = values.pop("rows", None)
        if rows is None:
            return super().update(**values)
        rows = tuple(rows)
        allowed = self.controls["rows"].options
        unknown = [r for r in rows if r not in allowed]
        if unknown or not rows:
            raise InputError(f"rows must be a non-empty selection of {', '.join(allowed)}; got {list(rows)!r}")
        self._holding = True  # one refresh, in super().update, for all the values
        try:
            self.controls["rows"].value = rows
        finally:
            self._holding = False
        return super().update(**values)

    def compute(self, rows: Sequence[str], group: str, a: str, b: str) -> dict[str, Any]:
        return compute_ablation(self.collected, rows or DEFAULT_ROWS[:1], group, a, b)

    def describe(self, last: Mapping[str, Any]) -> str:
        group = "all classes" if last["group"] == "all" else f"{last['group']} classes"
        cells = ", ".join(f"{html.escape(row)} <b>{_pct(mean)}</b>" + (f" ± {_pct(std)}" if math.isfinite(std) else "")
                          for row, (mean, std) in last["means"].items())
        pair: Pair = last["pair"]
        return (f"<b>test mIoU (%), {group}</b>, mean ± seed std: {cells}<br>"
                f"{html.escape(describe_pair(pair)).replace('`', '')}<br>"
                f"<small>{html.escape(last['missing']).replace('`', '')}</small>")
