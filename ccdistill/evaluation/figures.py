"""Figures of evaluation results: a normalised confusion matrix and grouped per-class IoU bars.

Figures are built with ``matplotlib.figure.Figure`` directly rather than ``pyplot`` so no global
figure state is created: the functions work under any backend (Agg in tests, inline in
Jupyter, where a returned Figure displays itself).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ccdistill.labels import CLASS_NAMES
from ccdistill.errors import InputError

from .metrics import default_class_names

__all__ = ["plot_confusion_matrix", "plot_per_class_iou"]

_NORMALIZE_CHOICES = ("true", "pred", "all", "none")


def _new_axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax  # type: ignore[return-value]
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.subplots()


def normalize_confusion(confusion: np.ndarray, normalize: str = "true") -> np.ndarray:
    """Normalise a K×K confusion matrix (rows = ground truth) as float64.

    Args:
        confusion: K×K counts.
        normalize: ``"true"`` divides each row by its ground-truth pixels (row = recall
            distribution), ``"pred"`` each column by its predicted pixels, ``"all"`` by the
            total, ``"none"`` keeps counts. Rows/columns with no pixels become NaN.
    """
    conf = np.asarray(confusion, dtype=np.float64)
    if conf.ndim != 2 or conf.shape[0] != conf.shape[1]:
        raise InputError(f"confusion must be a K×K matrix, got shape {conf.shape}")
    if normalize not in _NORMALIZE_CHOICES:
        raise InputError(f"normalize must be one of {_NORMALIZE_CHOICES}, got {normalize!r}")
    with np.errstate(divide="ignore", invalid="ignore"):
        if normalize == "true":
            sums = conf.sum(axis=1, keepdims=True)
        elif normalize == "pred":
            sums = conf.sum(axis=0, keepdims=True)
        elif normalize == "all":
            sums = np.full((1, 1), conf.sum())
        else:
            return conf
        return np.where(sums > 0, conf / sums, np.nan)


def plot_confusion_matrix(
    confusion: np.ndarray,
    class_names: Sequence[str] | None = CLASS_NAMES,
    normalize: str = "true",
    ax: Axes | None = None,
    annotate: bool = False,
) -> Figure:
    """Heatmap of a confusion matrix, rows = ground truth, columns = prediction.

    Args:
        confusion: K×K counts, e.g. ``result["confusion"]`` of ``ConfusionMatrix.compute``.
        class_names: K tick labels (``None``: Cityscapes names for K = 19, else numbers).
        normalize: see :func:`normalize_confusion`; the default row normalisation makes the
            diagonal the per-class accuracy. Rows of classes with no ground-truth pixels are
            left blank (NaN), not drawn as zeros.
        ax: draw into these axes; a new figure is made when ``None``.
        annotate: write the value into each cell (readable up to about 12 classes).

    Returns:
        The figure holding the heatmap.
    """
    import seaborn as sns  # imported lazily: seaborn is slow to import and only needed here

    values = normalize_confusion(confusion, normalize)
    k = values.shape[0]
    class_names = default_class_names(k, class_names)
    if len(class_names) != k:
        raise InputError(
            f"class_names has {len(class_names)} names for a {k}×{k} confusion matrix; "
            "pass one name per class"
        )
    fig, ax = _new_axes(ax, (0.45 * k + 3.0, 0.45 * k + 2.0))
    fraction = normalize != "none"
    sns.heatmap(
        values,
        ax=ax,
        cmap="Blues",
        vmin=0.0,
        vmax=1.0 if fraction else None,
        square=True,
        xticklabels=list(class_names),
        yticklabels=list(class_names),
        annot=annotate,
        fmt=".2f" if fraction else ".0f",
        cbar_kws={"label": "fraction of row" if normalize == "true" else "value"},
    )
    ax.set_xlabel("prediction")
    ax.set_ylabel("ground truth")
    ax.tick_params(axis="x", labelrotation=90)
    ax.tick_params(axis="y", labelrotation=0)
    return fig


def plot_per_class_iou(
    results: Mapping[str, Mapping[str, Any]],
    class_names: Sequence[str] | None = CLASS_NAMES,
    ax: Axes | None = None,
) -> Figure:
    """Grouped bars of per-class IoU for several methods (e.g. baseline vs CCDistill).

    Args:
        results: method name -> ``ConfusionMatrix.compute`` dict (``per_class_iou``, ``miou``).
        class_names: one name per class (``None``: Cityscapes names for K = 19).
        ax: draw into these axes; a new figure is made when ``None``.

    Returns:
        The figure. IoU is shown in percent; each legend entry carries the method's mIoU;
        classes with NaN IoU (absent from ground truth and prediction) get no bar.
    """
    if not results:
        raise InputError("results is empty; pass {method name: ConfusionMatrix.compute() dict}")
    first = next(iter(results.values()))
    class_names = default_class_names(len(np.asarray(first["per_class_iou"])), class_names)
    k = len(class_names)
    for name, res in results.items():
        n = len(np.asarray(res["per_class_iou"]))
        if n != k:
            raise InputError(
                f"results[{name!r}] has {n} per-class IoUs but class_names has {k} names"
            )
    fig, ax = _new_axes(ax, (max(8.0, 0.6 * k + 2.0), 4.5))
    x = np.arange(k)
    n_methods = len(results)
    bar_width = 0.8 / n_methods
    for i, (name, res) in enumerate(results.items()):
        iou = 100.0 * np.asarray(res["per_class_iou"], dtype=np.float64)
        shown = ~np.isnan(iou)
        offset = (i - (n_methods - 1) / 2.0) * bar_width
        miou = 100.0 * float(res["miou"])
        label = f"{name} (mIoU {miou:.1f})" if not np.isnan(miou) else f"{name} (mIoU n/a)"
        ax.bar(x[shown] + offset, iou[shown], width=bar_width, label=label)
    ax.set_xticks(x, list(class_names), rotation=60, ha="right")
    ax.set_ylabel("IoU (%)")
    ax.set_ylim(0.0, 100.0)
    ax.set_xlim(-0.6, k - 0.4)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper right", fontsize="small")
    return fig
