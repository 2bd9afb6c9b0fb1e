"""Analysis beyond mIoU: class groups, pseudo-label quality, correlation gaps."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ccdistill.evaluation.pseudo_labels import pseudo_label_quality
from ccdistill.experiments.analysis import class_group_miou, correlation_gaps
from ccdistill.models import SegmenterOutput


def test_class_groups_average_only_the_classes_with_a_value():
    iou = [0.5] * 11 + [0.1, None, 0.3] + [None] * 5
    assert class_group_miou(iou, "static") == pytest.approx(0.5)
    assert class_group_miou(iou, "dynamic") == pytest.approx(0.2)
    assert math.isnan(class_group_miou([None] * 19, "dynamic"))


def test_pseudo_label_precision_and_coverage_are_per_class_ratios():
    # 3 classes; rows: pseudo label 0, 1, 2, ignored; columns: the true class.
    counts = np.array([[8, 2, 0],
                       [0, 3, 0],
                       [0, 0, 0],
                       [2, 5, 10]])
    quality = pseudo_label_quality(counts)
    assert quality["precision"] == [pytest.approx(0.8), pytest.approx(1.0), None]  # nothing labelled 2
    assert quality["coverage"] == [pytest.approx(0.8), pytest.approx(0.3), pytest.approx(0.0)]
    assert quality["ignored_fraction"] == pytest.approx(17 / 30)
    assert quality["pixel_precision"] == pytest.approx(11 / 13)


class _Pooled(torch.nn.Module):
    """A stand-in segmenter whose features are its input plus a fixed offset."""

    def __init__(self, offset: float = 0.0) -> None:
        super().__init__()
        self.offset = offset

    def forward(self, x):
        return SegmenterOutput(x, x + self.offset)


def test_correlation_gaps_vanish_for_consistent_streams_and_grow_with_a_night_offset():
    torch.manual_seed(0)
    day = torch.rand(4, 3, 8, 8) + 0.1
    batch = {"S_d": day, "S_n": day.clone(), "T_d": day.flip(0), "T_n": day.flip(0).clone()}
    same = correlation_gaps(_Pooled(), _Pooled(), batch)
    assert same["inherent_gap"] == pytest.approx(0, abs=1e-6) and same["illumination_gap"] == pytest.approx(0, abs=1e-6)
    assert same["cor_illu_S"] == pytest.approx(1) and same["night_shift"] == pytest.approx(0, abs=1e-6)
    # S_n darker in one channel only: the source illumination correlation drops, the target one does not.
    batch["S_n"] = day * torch.tensor([1.0, 0.2, 0.2]).view(1, 3, 1, 1)
    shifted = correlation_gaps(_Pooled(), _Pooled(), batch)
    assert shifted["illumination_gap"] > 0.01 and shifted["cor_illu_S"] < shifted["cor_illu_T"]
    assert correlation_gaps(_Pooled(), _Pooled(0.5), batch)["night_shift"] == pytest.approx(0, abs=1e-6)
