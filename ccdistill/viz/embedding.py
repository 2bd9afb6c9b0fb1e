"""Embedding view: the night features of a model in 2-D (PCA, optionally t-SNE), coloured by
class or by domain, before vs after adaptation.

    view = EmbeddingView({"source-only": baseline, "CCDistill": model.deploy()},
                         {"S_n": s["S_n"], "T_n": s["T_n"]}, {"S_n": s["label"], "T_n": s["label_T_n"]})
    view.update(colour="domain", method="pca")
    view.last["points"]["CCDistill"]         # P×2 coordinates
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ccdistill.errors import InputError
from ccdistill.labels import CLASS_NAMES, IGNORE_INDEX
from ccdistill.viz._checks import check_choice, check_count
from ccdistill.viz._common import (
    DEFAULT_DPI,
    FONT,
    STREAM_COLOURS,
    Explorer,
    FastFigure,
    as_image_stack,
    class_colours,
    require,
    save_figure,
    stream_outputs,
    widgets,
)

METHODS = ("pca", "tsne")
COLOURINGS = ("class", "domain")
FALLBACK_DOMAIN_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728")
NO_LABELS = "the view was built without labels: pass labels={domain: trainIds} to colour by class"
AXIS_NAMES = {"pca": "PC", "tsne": "t-SNE"}
METHOD_NAMES = {"pca": "PCA", "tsne": "t-SNE"}


def sample_points(
    features: Mapping[str, torch.Tensor],
    labels: Mapping[str, np.ndarray] | None = None,
    max_points: int = 2000,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Feature vectors of randomly chosen feature-grid cells, with their class and domain.

    Args:
        features: {domain: N×C×h×w}.
        labels: {domain: N×H×W trainIds} (nearest-neighbour downsampled to h×w; cells on
            ignored pixels are dropped), or None (no class colouring).
        max_points: at most this many cells, spread evenly over the domains.
        seed: which cells (the same seed picks the same cells for every model).

    Returns:
        {"x": P×C float32, "label": P int (255 without labels), "domain": P int (index into
        the domains' order)}.
    """
    rng = np.random.default_rng(seed)
    per_domain = max(1, max_points // len(features))
    xs, ys, ds = [], [], []
    for d, (domain, f) in enumerate(features.items()):
        n, c, h, w = f.shape
        rows = f.permute(0, 2, 3, 1).reshape(-1, c).float().cpu().numpy()
        if labels is not None and domain in labels:
            grid = torch.as_tensor(np.asarray(labels[domain], dtype=np.int64))[:, None].float()
            cell_labels = F.interpolate(grid, size=(h, w), mode="nearest")[:, 0].long().reshape(-1).numpy()
        else:
            cell_labels = np.full(len(rows), IGNORE_INDEX)
        valid = np.flatnonzero(cell_labels != IGNORE_INDEX) if labels is not None else np.arange(len(rows))
        chosen = rng.choice(valid, size=min(per_domain, len(valid)), replace=False)
        xs.append(rows[chosen])
        ys.append(cell_labels[chosen])
        ds.append(np.full(len(chosen), d))
    return {"x": np.concatenate(xs), "label": np.concatenate(ys), "domain": np.concatenate(ds)}


def project(x: np.ndarray, method: str = "pca", seed: int = 0) -> tuple[np.ndarray, dict[str, Any]]:
    """P×C → P×2 with scikit-learn's PCA or t-SNE (init from PCA); returns (points, info)."""
    decomposition = require("sklearn.decomposition", "the embedding view")
    if method == "pca":
        pca = decomposition.PCA(n_components=2, random_state=seed)
        points = pca.fit_transform(x)
        return points, {"explained_variance": pca.explained_variance_ratio_.tolist()}
    if method == "tsne":
        manifold = require("sklearn.manifold", "the embedding view")
        perplexity = float(min(30.0, max(2.0, (len(x) - 1) / 3)))
        tsne = manifold.TSNE(n_components=2, init="pca", perplexity=perplexity, random_state=seed)
        return tsne.fit_transform(x), {"perplexity": perplexity}
    check_choice("method", method, METHODS)
    raise AssertionError(method)  # pragma: no cover - check_choice raised


def point_colours(points: Mapping[str, np.ndarray], colour: str, domains: list[str]) -> np.ndarray:
    """P×3 RGB in [0, 1]: the Cityscapes palette by class, or one colour per domain."""
    if colour == "class":
        return class_colours(np.where(points["label"] == IGNORE_INDEX, 0, points["label"]))
    from matplotlib.colors import to_rgb

    palette = np.array([to_rgb(STREAM_COLOURS.get(d, FALLBACK_DOMAIN_COLOURS[i % 4]))
                        for i, d in enumerate(domains)])
    return palette[points["domain"]]


def legend_entries(points: Mapping[str, np.ndarray], colour: str, domains: list[str]) -> list[tuple[str, Any]]:
    """(name, RGB) of every domain, or of every class present, as coloured in the scatter."""
    from matplotlib.colors import to_rgb

    if colour == "domain":
        return [(d, to_rgb(STREAM_COLOURS.get(d, FALLBACK_DOMAIN_COLOURS[i % 4]))) for i, d in enumerate(domains)]
    present = sorted(set(points["label"].tolist()) - {IGNORE_INDEX})
    return [(CLASS_NAMES[c], tuple(class_colours(np.array([c]))[0])) for c in present]


class EmbeddingPlot(FastFigure):
    """One scatter panel per model (each centred and scaled to fit; the axes are the two
    components of that model's own projection), and a legend of the domains or classes."""

    def __init__(self, names: list[str], dpi: float = DEFAULT_DPI) -> None:
        super().__init__((4.2 * len(names), 4.6), dpi)
        self.axes = np.atleast_1d(self.figure.subplots(1, len(names)))
        self.figure.subplots_adjust(left=0.04, right=0.98, bottom=0.22, top=0.9, wspace=0.12)
        self.scatters = []
        self.titles = []
        for ax in self.axes:
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_xlim(-1.1, 1.1)
            ax.set_ylim(-1.1, 1.1)
            self.scatters.append(ax.scatter(np.zeros(1), np.zeros(1), s=5, linewidths=0))
            self.titles.append(ax.set_title(" ", fontsize=FONT["title"]))
        self.legend: Any = None
        self.dynamic = [*self.scatters, *self.titles]

    def static_key(self, last: Mapping[str, Any]) -> Any:
        return last["method"], tuple(name for name, _ in last["legend_entries"])

    def _frame(self, last: Mapping[str, Any]) -> None:
        from matplotlib.patches import Patch

        axis = AXIS_NAMES[last["method"]]
        for ax in self.axes:
            ax.set_xlabel(f"{axis} 1", fontsize=FONT["label"])
            ax.set_ylabel(f"{axis} 2", fontsize=FONT["label"])
        if self.legend is not None:
            self.legend.remove()
        handles = [Patch(facecolor=rgb, label=name) for name, rgb in last["legend_entries"]]
        self.legend = self.figure.legend(handles=handles, loc="lower center", ncol=min(len(handles), 7),
                                         fontsize=FONT["tick"], frameon=False, handlelength=1.2,
                                         title=f"coloured by {last['colour']}", title_fontsize=FONT["tick"])

    def draw(self, last: Mapping[str, Any]) -> None:
        self._frame(last)
        colours = last["colours"]
        for scatter, title, name in zip(self.scatters, self.titles, last["points"]):
            xy = last["points"][name]
            # Each panel is scaled into [−1, 1]² (fixed limits keep the blitted frame valid).
            centred = xy - xy.mean(axis=0)
            scatter.set_offsets(centred / max(float(np.abs(centred).max()), 1e-12))
            scatter.set_facecolors(colours)
            info = last["info"].get(name, {})
            share = (f", {100 * sum(info['explained_variance']):.0f}% of the variance"
                     if "explained_variance" in info else "")
            title.set_text(f"{name}\n{METHOD_NAMES[last['method']]}{share}")


class EmbeddingView(Explorer):
    """Night features of models in 2-D, coloured by class or domain (issue 8, item 3).

    Features are computed and the cells sampled once; each model's projection is computed when
    first asked for and cached (t-SNE takes seconds; PCA milliseconds), so toggling the
    colouring or returning to a method only redraws.

    Args:
        models: {name: segmenter}, e.g. {"before (source-only)": M_d, "after (CCDistill)": M_n}.
        images: {domain: N×H×W×3 uint8 night images}, e.g. {"S_n": ..., "T_n": ...}.
        labels: {domain: N×H×W trainIds} for class colouring (None: domain colouring only).
        max_points, seed: how many feature cells are drawn (`sample_points`).
        method: "pca" or "tsne"; colour: "class" (needs labels) or "domain" (default: class
            when labels are given).

    A value the buttons cannot take is refused with one sentence, here as in `update()`.
    """

    def __init__(
        self,
        models: Mapping[str, torch.nn.Module],
        images: Mapping[str, np.ndarray],
        labels: Mapping[str, np.ndarray] | None = None,
        max_points: int = 2000,
        seed: int = 0,
        method: str = "pca",
        colour: str | None = None,
    ) -> None:
        w = widgets()
        if not models or not images:
            raise InputError("models and images must both be non-empty mappings ({name: segmenter}, {domain: images})")
        stacks = {domain: as_image_stack(domain, stack) for domain, stack in images.items()}
        self.domains = list(stacks)
        self.seed = seed
        max_points = check_count("max_points", max_points, 1)
        self.samples = {}
        for name, model in models.items():
            features = {d: out.features for d, out in stream_outputs(model, stacks).items()}
            self.samples[name] = sample_points(features, labels, max_points, seed)
        self.projections: dict[tuple[str, str], tuple[np.ndarray, dict[str, Any]]] = {}
        colourings = list(COLOURINGS) if labels is not None else ["domain"]
        self.unavailable = {} if labels is not None else {"colour": {"class": NO_LABELS}}
        self.controls = {
            "method": w.ToggleButtons(options=METHODS, description="2-D by"),
            "colour": w.ToggleButtons(options=colourings, description="colour by"),
        }
        self.view = EmbeddingPlot(list(models))
        self._build(method=method, colour=colour if colour is not None else colourings[0])

    def projection(self, name: str, method: str) -> tuple[np.ndarray, dict[str, Any]]:
        """The cached 2-D points of model `name` by `method` (computed on first use)."""
        key = (name, method)
        if key not in self.projections:
            self.projections[key] = project(self.samples[name]["x"], method, self.seed)
        return self.projections[key]

    def compute(self, method: str, colour: str) -> dict[str, Any]:
        projected = {name: self.projection(name, method) for name in self.samples}
        first = next(iter(self.samples.values()))
        return {
            "method": method,
            "colour": colour,
            "points": {name: points for name, (points, _) in projected.items()},
            "info": {name: info for name, (_, info) in projected.items()},
            "labels": first["label"],
            "domain": first["domain"],
            "colours": point_colours(first, colour, self.domains),
            "legend_entries": legend_entries(first, colour, self.domains),
        }

    def describe(self, last: Mapping[str, Any]) -> str:
        parts = []
        for name, info in last["info"].items():
            if "explained_variance" in info:
                share = 100 * sum(info["explained_variance"])
                parts.append(f"{name}: the two components explain {share:.1f}% of the variance")
            else:
                parts.append(f"{name}: t-SNE, perplexity {info['perplexity']:.0f}")
        count = len(last["labels"])
        return (f"<b>{count} feature cells</b> of {', '.join(self.domains)}, {METHOD_NAMES[last['method']]}, "
                f"coloured by {last['colour']}<br>" + "; ".join(parts))


def plot_embedding(
    models: Mapping[str, torch.nn.Module],
    images: Mapping[str, np.ndarray],
    labels: Mapping[str, np.ndarray] | None = None,
    method: str = "pca",
    colour: str = "domain",
    max_points: int = 2000,
    seed: int = 0,
    save: str | os.PathLike | None = None,
) -> Any:
    """The embedding view as a matplotlib Figure (saved to `save`). Needs no ipywidgets."""
    check_choice("method", method, METHODS)
    check_choice("colour", colour, COLOURINGS if labels is not None else ["domain"], {"class": NO_LABELS})
    max_points = check_count("max_points", max_points, 1)
    stacks = {domain: as_image_stack(domain, stack) for domain, stack in images.items()}
    domains = list(stacks)
    points, info = {}, {}
    first = None
    for name, model in models.items():
        features = {d: out.features for d, out in stream_outputs(model, stacks).items()}
        sample = sample_points(features, labels, max_points, seed)
        first = first if first is not None else sample
        points[name], info[name] = project(sample["x"], method, seed)
    last = {"method": method, "colour": colour, "points": points, "info": info, "colours": point_colours(first, colour, domains),
            "legend_entries": legend_entries(first, colour, domains)}
    view = EmbeddingPlot(list(models))
    view.draw(last)
    return save_figure(view.figure, save)
