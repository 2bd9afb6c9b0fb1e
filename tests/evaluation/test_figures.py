"""Confusion-matrix heatmap and per-class IoU bars: what they draw, not how they look."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from matplotlib.figure import Figure

from ccdistill.errors import InputError
from ccdistill.evaluation import ConfusionMatrix, plot_confusion_matrix, plot_per_class_iou
from ccdistill.evaluation.figures import normalize_confusion

CONFUSION = np.array([[3, 1, 0], [0, 0, 0], [2, 0, 2]])  # class 1 has no ground-truth pixel


def test_row_normalisation_leaves_empty_rows_nan():
    values = normalize_confusion(CONFUSION, "true")
    np.testing.assert_allclose(values[0], [0.75, 0.25, 0.0])
    np.testing.assert_allclose(values[2], [0.5, 0.0, 0.5])
    assert np.isnan(values[1]).all()


def test_confusion_heatmap_draws_row_normalised_values_and_blanks_empty_rows():
    fig = plot_confusion_matrix(CONFUSION, class_names=["a", "b", "c"])
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    mesh = ax.collections[0].get_array()
    assert mesh.size == 9
    grid = np.ma.asarray(mesh).reshape(3, 3)
    assert grid.mask[1].all() and not grid.mask[[0, 2]].any()
    np.testing.assert_allclose(grid[0].filled(np.nan), [0.75, 0.25, 0.0])
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b", "c"]
    assert ax.get_ylabel() == "ground truth" and ax.get_xlabel() == "prediction"
    fig.savefig(io.BytesIO(), format="png")  # renders without a display


def test_confusion_heatmap_defaults_to_cityscapes_names_and_uses_given_axes():
    result = ConfusionMatrix().update(np.arange(19), np.arange(19)).compute()
    outer = Figure()
    ax = outer.subplots()
    fig = plot_confusion_matrix(result["confusion"], ax=ax)
    assert fig is outer
    assert ax.get_yticklabels()[0].get_text() == "road"


def test_confusion_heatmap_checks_its_inputs():
    with pytest.raises(InputError, match="class_names has 2 names"):
        plot_confusion_matrix(CONFUSION, class_names=["a", "b"])
    with pytest.raises(InputError, match="normalize"):
        plot_confusion_matrix(CONFUSION, class_names=["a", "b", "c"], normalize="rows")


def test_per_class_iou_bars_one_per_finite_class_with_miou_in_the_legend():
    baseline = ConfusionMatrix(num_classes=3).update([0, 0, 2, 2], [0, 2, 2, 2]).compute()
    ours = ConfusionMatrix(num_classes=3).update([0, 2, 2, 1], [0, 2, 2, 1]).compute()
    fig = plot_per_class_iou({"baseline": baseline, "CCDistill": ours}, class_names=["a", "b", "c"])
    ax = fig.axes[0]
    heights = sorted(round(p.get_height(), 6) for p in ax.patches)
    # baseline: a 50, b NaN (no bar), c 66.7; CCDistill: 100 for all three.
    assert heights == sorted([50.0, round(200 / 3, 6), 100.0, 100.0, 100.0])
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == [f"baseline (mIoU {100 * baseline['miou']:.1f})", "CCDistill (mIoU 100.0)"]
    fig.savefig(io.BytesIO(), format="png")


def test_per_class_iou_refuses_mismatched_names():
    result = ConfusionMatrix(num_classes=3).update([0], [0]).compute()
    with pytest.raises(InputError, match="3 per-class IoUs"):
        plot_per_class_iou({"x": result}, class_names=["a", "b"])
