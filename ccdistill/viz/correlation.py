"""Correlation explorer: the four CDC correlations of a batch as matrices, teacher beside
student, and the L_CDC they give (SPEC 4.3).

    explorer = CorrelationExplorer(model, toy_streams(n=4))
    explorer.update(granularity="token", grid=2)
    explorer.last["L_CDC"], explorer.last["Cor(S_d,T_d)"]
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize

from ccdistill.errors import InputError
from ccdistill.losses import cdc_loss, content_correlation
from ccdistill.viz._common import (
    DIVERGING_CMAP,
    STREAM_NAMES,
    Explorer,
    FastFigure,
    as_image_stack,
    save_figure,
    stream_embeddings,
    stream_outputs,
    widgets,
)

# (teacher, student) pairs of L_CDC: the inherent difference by day teaches the one at night;
# the illumination difference on the source teaches the one on the target.
TERMS: dict[str, tuple[tuple[str, str], tuple[str, str]]] = {
    "inherent": (("S_d", "T_d"), ("S_n", "T_n")),
    "illumination": (("S_d", "S_n"), ("T_d", "T_n")),
}
GRANULARITIES = ("image", "token")
ILLUMINATION_PAIRS = ("aligned", "all")
MAX_GRID = 8


def correlation_name(a: str, b: str) -> str:
    """'Cor(S_d,T_d)', the key of a correlation in `.last`."""
    return f"Cor({a},{b})"


def compute_correlations(
    embeddings: Mapping[str, torch.Tensor],
    granularity: str = "image",
    grid: int = 8,
    illumination_pairs: str = "aligned",
) -> dict[str, Any]:
    """The four CDC correlations (all pairs, as matrices) and L_CDC.

    Args:
        embeddings: {S_d, S_n, T_d, T_n: N×D×h×w} from one `embed_streams` call.
        granularity, grid: pooling of `content_correlation` (token: K = grid).
        illumination_pairs: passed to `cdc_loss` ("aligned" compares the diagonals only).

    Returns:
        {"Cor(a,b)": P×P numpy matrices (P = N, or N·K² for tokens) for the four pairs,
        "L_CDC": float (`cdc_loss`), and the arguments}.
    """
    missing = [s for s in STREAM_NAMES if s not in embeddings]
    if missing:
        raise InputError(f"the correlation explorer needs all four streams; {missing} missing")
    last: dict[str, Any] = {"granularity": granularity, "grid": grid,
                            "illumination_pairs": illumination_pairs}
    for pair in (p for term in TERMS.values() for p in term):
        cor = content_correlation(embeddings[pair[0]], embeddings[pair[1]], granularity, grid, "all")
        last[correlation_name(*pair)] = cor.cpu().numpy()
    loss = cdc_loss(*(embeddings[s] for s in STREAM_NAMES), granularity=granularity, grid=grid,
                    illumination_pairs=illumination_pairs)
    last["L_CDC"] = float(loss)
    return last


class CorrelationView(FastFigure):
    """2×3 grid: per term, the teacher matrix, the student matrix and student − teacher."""

    def __init__(self, dpi: float = 72) -> None:
        super().__init__((7.8, 5.0), dpi)
        self.axes = self.figure.subplots(2, 3)
        self.figure.subplots_adjust(left=0.06, right=0.86, bottom=0.04, top=0.9, wspace=0.08, hspace=0.2)
        self.images = np.empty((2, 3), dtype=object)
        for (row, col), ax in np.ndenumerate(self.axes):
            ax.set_xticks([])
            ax.set_yticks([])
            self.images[row, col] = ax.imshow(np.zeros((2, 2)), cmap=DIVERGING_CMAP, vmin=-1, vmax=1,
                                              interpolation="nearest")
        for col, name in enumerate(("teacher (sg)", "student", "student − teacher")):
            self.axes[0, col].set_title(name, fontsize=10)
        for row, term in enumerate(TERMS):
            self.axes[row, 0].set_ylabel(term, fontsize=10)
        self.figure.colorbar(ScalarMappable(Normalize(-1, 1), DIVERGING_CMAP),
                             cax=self.figure.add_axes((0.88, 0.1, 0.015, 0.75)), label="cosine")
        self.labels = [[ax.text(0.5, -0.02, " ", transform=ax.transAxes, ha="center", va="top", fontsize=8)
                        for ax in row] for row in self.axes]
        self.suptitle = self.figure.suptitle(" ", fontsize=10)
        self.dynamic = [*self.images.ravel(), *(label for row in self.labels for label in row), self.suptitle]

    def draw(self, last: Mapping[str, Any]) -> None:
        for row, (teacher, student) in enumerate(TERMS.values()):
            t = last[correlation_name(*teacher)]
            s = last[correlation_name(*student)]
            # The difference is small next to the cosines: its own symmetric scale, stated below it.
            spread = max(float(np.abs(s - t).max()), 1e-6)
            self.images[row, 2].set_clim(-spread, spread)
            for col, (matrix, caption) in enumerate((
                (t, correlation_name(*teacher)), (s, correlation_name(*student)),
                (s - t, f"colour scale ±{spread:.2g}"),
            )):
                image = self.images[row, col]
                image.set_data(matrix)
                image.set_extent((-0.5, matrix.shape[1] - 0.5, matrix.shape[0] - 0.5, -0.5))
                self.labels[row][col].set_text(caption)
        self.suptitle.set_text(
            f"{last['granularity']} granularity"
            + (f", {last['grid']}×{last['grid']} tokens" if last["granularity"] == "token" else "")
            + f"   L_CDC = {last['L_CDC']:.4f}")


def _embedding_cache(model: torch.nn.Module, batch: Mapping[str, np.ndarray]) -> dict[str, torch.Tensor]:
    stacks = {s: as_image_stack(s, batch[s]) for s in STREAM_NAMES if s in batch}
    missing = [s for s in STREAM_NAMES if s not in stacks]
    if missing or not hasattr(model, "embed_streams"):
        raise InputError(
            f"the correlation explorer needs a CCDistillModel and images of all four streams "
            f"(missing: {missing or 'none'}); e.g. CorrelationExplorer(model, toy_streams(n=4))"
        )
    features = {s: out.features for s, out in stream_outputs(model, stacks).items()}
    return stream_embeddings(model, features)


class CorrelationExplorer(Explorer):
    """The four CDC correlations and L_CDC of one batch (issue 8, item 3).

    Args:
        model: a CCDistillModel; the embeddings of the four streams are computed once, in one
            `embed_streams` call.
        batch: {S_d, S_n, T_d, T_n: N×H×W×3 uint8} (e.g. `toy_streams(n=4)`); other keys are ignored.
        granularity: "image" or "token"; grid: K of the token grid.
        illumination_pairs: "aligned" or "all" (see `cdc_loss`).
    """

    def __init__(
        self,
        model: torch.nn.Module,
        batch: Mapping[str, np.ndarray],
        granularity: str = "image",
        grid: int = 4,
        illumination_pairs: str = "aligned",
    ) -> None:
        w = widgets()
        self.embeddings = _embedding_cache(model, batch)
        h, wdt = next(iter(self.embeddings.values())).shape[-2:]
        self.controls = {
            "granularity": w.ToggleButtons(options=GRANULARITIES, value=granularity, description="granularity"),
            "grid": w.IntSlider(value=min(grid, h, wdt, MAX_GRID), min=1, max=min(h, wdt, MAX_GRID),
                                description="grid K", continuous_update=False),
            "illumination_pairs": w.Dropdown(options=ILLUMINATION_PAIRS, value=illumination_pairs,
                                             description="illum. pairs"),
        }
        self.view = CorrelationView()
        self._build()

    def compute(self, granularity: str, grid: int, illumination_pairs: str) -> dict[str, Any]:
        return compute_correlations(self.embeddings, granularity, grid, illumination_pairs)

    def describe(self, last: Mapping[str, Any]) -> str:
        rows = []
        for term, (teacher, student) in TERMS.items():
            gap = np.abs(last[correlation_name(*student)] - last[correlation_name(*teacher)])
            rows.append(f"{term}: mean |{correlation_name(*student)} − {correlation_name(*teacher)}| "
                        f"= {gap.mean():.4f}")
        size = last[correlation_name("S_d", "T_d")].shape
        return (f"<b>L_CDC = {last['L_CDC']:.4f}</b> ({last['granularity']}, "
                f"{size[0]}×{size[1]} matrices, illumination pairs {last['illumination_pairs']})<br>"
                + "<br>".join(rows))


def plot_correlations(
    model: torch.nn.Module,
    batch: Mapping[str, np.ndarray],
    granularity: str = "image",
    grid: int = 4,
    illumination_pairs: str = "aligned",
    save: str | os.PathLike | None = None,
) -> Any:
    """The correlation explorer's figure as a matplotlib Figure (saved to `save`)."""
    last = compute_correlations(_embedding_cache(model, batch), granularity, grid, illumination_pairs)
    view = CorrelationView(dpi=100)
    view.draw(last)
    return save_figure(view.figure, save)
