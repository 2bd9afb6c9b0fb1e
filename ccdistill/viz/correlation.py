"""Correlation explorer: the four CDC correlations of a batch as matrices, teacher beside
student, and the L_CDC they give (docs/METHOD.md, section 4).

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
from matplotlib import colormaps

from ccdistill.errors import InputError
from ccdistill.losses import cdc_loss, content_correlation
from ccdistill.viz._checks import check_integer, check_choice
from ccdistill.viz._common import (
    DEFAULT_DPI,
    DIVERGING_CMAP,
    FONT,
    SEQUENTIAL_CMAP,
    STREAM_NAMES,
    UNREAD_COLOUR,
    Explorer,
    FastFigure,
    as_image_stack,
    colour_bar,
    colour_range,
    save_figure,
    stream_embeddings,
    stream_outputs,
    symmetric_range,
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
DEFAULT_GRID = 4
COLOUR_STEP = 0.01  # the correlations' colour scale is rounded outward to this


def correlation_name(a: str, b: str) -> str:
    """'Cor(S_d,T_d)', the key of a correlation in `.last`."""
    return f"Cor({a},{b})"


def max_grid(height: int, width: int) -> int:
    """The largest token grid K of an h×w embedding map (at most MAX_GRID)."""
    return min(height, width, MAX_GRID)


def read_by_loss(size: int, term: str, illumination_pairs: str) -> np.ndarray:
    """P×P bool: the entries of a term's matrices that L_CDC compares. The inherent term
    compares every entry (any source image with any target image); the illumination term only
    the diagonal with "aligned" pairs (image i, or token k of image i, with its own night
    version), every entry with "all"."""
    if term == "illumination" and illumination_pairs == "aligned":
        return np.eye(size, dtype=bool)
    return np.ones((size, size), dtype=bool)


def compute_correlations(
    embeddings: Mapping[str, torch.Tensor],
    granularity: str = "image",
    grid: int = DEFAULT_GRID,
    illumination_pairs: str = "aligned",
) -> dict[str, Any]:
    """The four CDC correlations (all pairs, as matrices), what the loss reads of them, L_CDC.

    Args:
        embeddings: {S_d, S_n, T_d, T_n: N×D×h×w} from one `embed_streams` call.
        granularity, grid: pooling of `content_correlation` (token: K = grid, 1 ≤ K ≤ min(h, w, 8)).
        illumination_pairs: passed to `cdc_loss` ("aligned" compares the diagonals only).

    Returns:
        {"Cor(a,b)": P×P numpy matrices (P = N, or N·K² for tokens, image-major) for the four
        pairs, "read": {term: P×P bool, the entries the loss compares}, "term_loss": {term: mean
        |student − teacher| over them}, "L_CDC": float (`cdc_loss`), and the arguments}.
    """
    missing = [s for s in STREAM_NAMES if s not in embeddings]
    if missing:
        raise InputError(f"the correlation explorer needs all four streams; {missing} missing")
    check_choice("granularity", granularity, GRANULARITIES)
    check_choice("illumination_pairs", illumination_pairs, ILLUMINATION_PAIRS)
    h, w = next(iter(embeddings.values())).shape[-2:]
    check_integer("grid", grid, 1, max_grid(h, w), f" (K of the token grid of the {h}×{w} embedding map)")
    last: dict[str, Any] = {"granularity": granularity, "grid": grid,
                            "illumination_pairs": illumination_pairs}
    for pair in (p for term in TERMS.values() for p in term):
        cor = content_correlation(embeddings[pair[0]], embeddings[pair[1]], granularity, grid, "all")
        last[correlation_name(*pair)] = cor.cpu().numpy()
    size = last[correlation_name("S_d", "T_d")].shape[0]
    last["read"] = {term: read_by_loss(size, term, illumination_pairs) for term in TERMS}
    last["term_loss"] = {
        term: float(np.abs(last[correlation_name(*student)] - last[correlation_name(*teacher)])[last["read"][term]].mean())
        for term, (teacher, student) in TERMS.items()
    }
    loss = cdc_loss(*(embeddings[s] for s in STREAM_NAMES), granularity=granularity, grid=grid,
                    illumination_pairs=illumination_pairs)
    last["L_CDC"] = float(loss)
    return last


class CorrelationView(FastFigure):
    """Rows: the inherent and the illumination term. Columns: the teacher matrix sg[Cor], the
    student matrix (one colour scale per row, fitted to the entries the loss reads, with its
    bar) and student − teacher (its own symmetric scale and bar). Entries the loss does not
    read are grey; token matrices are divided into images by white lines."""

    def __init__(self, dpi: float = DEFAULT_DPI) -> None:
        super().__init__((10.0, 6.6), dpi)
        self.axes = self.figure.subplots(2, 3)
        self.figure.subplots_adjust(left=0.09, right=0.91, bottom=0.1, top=0.86, wspace=0.5, hspace=0.55)
        self.images = np.empty((2, 3), dtype=object)
        for (row, col), ax in np.ndenumerate(self.axes):
            cmap = colormaps[DIVERGING_CMAP if col == 2 else SEQUENTIAL_CMAP].with_extremes(bad=UNREAD_COLOUR)
            self.images[row, col] = ax.imshow(np.zeros((2, 2)), cmap=cmap, vmin=0, vmax=1, interpolation="nearest")
            ax.tick_params(labelsize=FONT["tick"])
        for row, term in enumerate(TERMS):
            colour_bar(self.figure, self.images[row, 1], list(self.axes[row, :2]), "cosine")
            colour_bar(self.figure, self.images[row, 2], self.axes[row, 2], "student − teacher")
            box = self.axes[row, 0].get_position()
            self.figure.text(0.012, (box.y0 + box.y1) / 2, f"{term} term", rotation=90, ha="left", va="center",
                             fontsize=FONT["title"], weight="bold")
        self.titles = [[ax.set_title(" ", fontsize=FONT["label"]) for ax in row] for row in self.axes]
        self.suptitle = self.figure.suptitle(" ", fontsize=FONT["title"])
        self.note = self.figure.text(0.5, 0.01, " ", ha="center", va="bottom", fontsize=FONT["tick"])
        self.texts = [*(t for row in self.titles for t in row), self.suptitle, self.note]
        self.separators: list[Any] = []  # white lines between the images' tokens, drawn over the matrices
        self._layout: tuple[int, int] | None = None
        self.dynamic = [*self.images.ravel(), *self.texts]

    def static_key(self, last: Mapping[str, Any]) -> Any:
        # Colour bars, ticks and image separators depend on the scales and the matrix size.
        return tuple((image.get_clim(), image.get_array().shape) for image in self.images.ravel())

    def _layout_axes(self, size: int, per_image: int) -> None:
        """Ticks at each image (the middle of its tokens), white lines between images' tokens."""
        if self._layout == (size, per_image):
            return
        self._layout = (size, per_image)
        for line in self.separators:
            line.remove()
        self.separators = []
        count = size // per_image
        ticks, labels = np.arange(count) * per_image + (per_image - 1) / 2, [str(i) for i in range(count)]
        tokens = " (its tokens)" if per_image > 1 else ""
        for (row, col), ax in np.ndenumerate(self.axes):
            (a, b) = TERMS[list(TERMS)[row]][min(col, 1)]
            # Every panel indexes the same images: numbers on the outer panels only (text is
            # most of what a redraw costs).
            ax.set_xticks(ticks, labels if row == 1 else [])
            ax.set_yticks(ticks, labels if col == 0 else [])
            ax.set_xlabel(f"{b} image{tokens}", fontsize=FONT["tick"])
            ax.set_ylabel(f"{a} image{tokens}", fontsize=FONT["tick"])
            for boundary in np.arange(1, count) * per_image - 0.5:
                self.separators += [ax.axhline(boundary, color="white", lw=1), ax.axvline(boundary, color="white", lw=1)]
        self.dynamic = [*self.images.ravel(), *self.separators, *self.texts]

    def draw(self, last: Mapping[str, Any]) -> None:
        per_image = last["grid"] ** 2 if last["granularity"] == "token" else 1
        self._layout_axes(last[correlation_name("S_d", "T_d")].shape[0], per_image)
        for row, (term, (teacher, student)) in enumerate(TERMS.items()):
            read = last["read"][term]
            t, s = last[correlation_name(*teacher)], last[correlation_name(*student)]
            low, high = colour_range(t[read], s[read], high=1.0, step=COLOUR_STEP)
            spread = symmetric_range((s - t)[read])
            panels = ((t, (low, high), f"teacher sg[{correlation_name(*teacher)}]"),
                      (s, (low, high), f"student {correlation_name(*student)}"),
                      (s - t, (-spread, spread), f"student − teacher: {term} term {last['term_loss'][term]:.4f}"))
            for col, (matrix, limits, title) in enumerate(panels):
                image = self.images[row, col]
                image.set_data(np.ma.masked_array(matrix, mask=~read))
                image.set_clim(*limits)
                image.set_extent((-0.5, matrix.shape[1] - 0.5, matrix.shape[0] - 0.5, -0.5))
                self.titles[row][col].set_text(title)
        tokens = f", {last['grid']}×{last['grid']} tokens per image" if last["granularity"] == "token" else ""
        self.suptitle.set_text(f"the four CDC correlations, {last['granularity']} granularity{tokens}:  "
                               f"L_CDC = {last['L_CDC']:.4f} (the sum of the two terms)")
        self.note.set_text(
            "grey: entries L_CDC does not read (illumination pairs 'aligned': each image only with its own "
            "night version, the diagonal)" if last["illumination_pairs"] == "aligned"
            else "illumination pairs 'all': L_CDC reads every entry of the four matrices")


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
        granularity: "image" or "token".
        grid: K of the token grid, 1 ≤ K ≤ min(h, w, 8) of the embedding map (default 4, or
            the largest K below it); the slider is disabled at image granularity, where it
            changes nothing.
        illumination_pairs: "aligned" or "all" (see `cdc_loss`).

    A value the controls cannot take is refused with one sentence, here as in `update()`.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        batch: Mapping[str, np.ndarray],
        granularity: str = "image",
        grid: int | None = None,
        illumination_pairs: str = "aligned",
    ) -> None:
        w = widgets()
        self.embeddings = _embedding_cache(model, batch)
        largest = max_grid(*next(iter(self.embeddings.values())).shape[-2:])
        self.controls = {
            "granularity": w.ToggleButtons(options=GRANULARITIES, description="granularity"),
            "grid": w.IntSlider(min=1, max=largest, description="grid K", continuous_update=False),
            "illumination_pairs": w.Dropdown(options=ILLUMINATION_PAIRS, description="illumination pairs",
                                             style={"description_width": "initial"}),
        }
        self.view = CorrelationView()
        self._build(granularity=granularity, grid=grid if grid is not None else min(DEFAULT_GRID, largest),
                    illumination_pairs=illumination_pairs)

    def active(self, values: Mapping[str, Any]) -> dict[str, bool]:
        return {"grid": values["granularity"] == "token"}  # image granularity pools to one vector

    def compute(self, granularity: str, grid: int, illumination_pairs: str) -> dict[str, Any]:
        return compute_correlations(self.embeddings, granularity, grid, illumination_pairs)

    def describe(self, last: Mapping[str, Any]) -> str:
        rows = []
        for term, (teacher, student) in TERMS.items():
            read = last["read"][term]
            which = "the diagonal" if not read.all() else "all entries"
            rows.append(f"{term}: mean |{correlation_name(*student)} − {correlation_name(*teacher)}| over "
                        f"{which} = {last['term_loss'][term]:.4f}")
        size = last[correlation_name("S_d", "T_d")].shape
        return (f"<b>L_CDC = {last['L_CDC']:.4f}</b> ({last['granularity']}, "
                f"{size[0]}×{size[1]} matrices, illumination pairs {last['illumination_pairs']})<br>"
                + "<br>".join(rows))


def plot_correlations(
    model: torch.nn.Module,
    batch: Mapping[str, np.ndarray],
    granularity: str = "image",
    grid: int = DEFAULT_GRID,
    illumination_pairs: str = "aligned",
    save: str | os.PathLike | None = None,
) -> Any:
    """The correlation explorer's figure as a matplotlib Figure (saved to `save`): per term the
    teacher and student matrices on one fitted colour scale, their difference on its own
    symmetric scale, the entries L_CDC does not read in grey."""
    last = compute_correlations(_embedding_cache(model, batch), granularity, grid, illumination_pairs)
    view = CorrelationView()
    view.draw(last)
    return save_figure(view.figure, save)
