"""ConfusionMatrix against hand-computed values, and its error messages."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.distributed as dist

from ccdistill.errors import InputError
from ccdistill.evaluation import ConfusionMatrix, format_table

# K = 4. Valid pixels (gt, pred): (0,0) (0,1) (1,1) (1,1) (2,0); the last pixel is ignored and
# predicted as class 3, which must not turn class 3 from "absent" (NaN) into IoU 0.
TARGET = np.array([0, 0, 1, 1, 2, 255])
PRED = np.array([0, 1, 1, 1, 0, 3])


def _hand_case() -> ConfusionMatrix:
    return ConfusionMatrix(num_classes=4).update(PRED, TARGET)


def test_confusion_counts_rows_are_ground_truth():
    conf = _hand_case().compute()["confusion"]
    expected = np.array([[1, 1, 0, 0], [0, 2, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0]])
    np.testing.assert_array_equal(conf, expected)
    assert conf.dtype == np.int64


def test_iou_by_hand_with_absent_class_nan_and_excluded_from_mean():
    result = _hand_case().compute()
    iou = result["per_class_iou"]
    # class 0: TP 1, FP 1 (gt 2), FN 1 (pred 1) -> 1/3; class 1: TP 2, FP 1 -> 2/3;
    # class 2: TP 0, FN 1 -> 0; class 3: never in gt, only predicted on an ignored pixel -> NaN.
    np.testing.assert_allclose(iou[:3], [1 / 3, 2 / 3, 0.0])
    assert np.isnan(iou[3])
    assert iou.dtype == np.float64
    assert result["miou"] == pytest.approx((1 / 3 + 2 / 3 + 0.0) / 3)


def test_pixel_and_per_class_accuracy():
    result = _hand_case().compute()
    assert result["pixel_accuracy"] == pytest.approx(3 / 5)
    acc = result["per_class_accuracy"]
    np.testing.assert_allclose(acc[:3], [0.5, 1.0, 0.0])
    assert np.isnan(acc[3])
    assert result["mean_accuracy"] == pytest.approx(0.5)
    assert result["num_pixels"] == 5


def test_predicted_but_absent_class_counts_as_zero():
    # Class 2 never in the ground truth but predicted once: IoU 0, and it lowers the mean.
    result = ConfusionMatrix(num_classes=3).update([0, 2], [0, 0]).compute()
    np.testing.assert_allclose(result["per_class_iou"][[0, 2]], [0.5, 0.0])
    assert np.isnan(result["per_class_iou"][1])
    assert result["miou"] == pytest.approx(0.25)


def test_ignore_pixels_are_skipped_entirely():
    cm = ConfusionMatrix(num_classes=4)
    cm.update(np.array([2, 2, 2]), np.array([255, 255, 255]))
    assert cm.compute()["num_pixels"] == 0
    assert np.isnan(cm.compute()["miou"])
    assert np.isnan(cm.compute()["pixel_accuracy"])


def test_merge_of_two_halves_equals_one_pass():
    rng = np.random.default_rng(1)
    target = rng.integers(0, 6, size=(4, 9, 11))
    target[rng.random(target.shape) < 0.1] = 255
    pred = rng.integers(0, 6, size=target.shape)
    whole = ConfusionMatrix(num_classes=6).update(pred, target).compute()
    first = ConfusionMatrix(num_classes=6).update(pred[:2], target[:2])
    second = ConfusionMatrix(num_classes=6).update(torch.from_numpy(pred[2:]), torch.from_numpy(target[2:]))
    merged = first.merge(second).compute()
    np.testing.assert_array_equal(merged["confusion"], whole["confusion"])
    np.testing.assert_allclose(merged["per_class_iou"], whole["per_class_iou"])


def test_update_accumulates_and_reset_clears():
    cm = _hand_case()
    cm.update(PRED, TARGET)
    assert cm.compute()["num_pixels"] == 10
    assert cm.compute()["miou"] == pytest.approx(1 / 3)  # doubling every count keeps the ratios
    cm.reset()
    assert cm.compute()["num_pixels"] == 0


def test_accepts_uint8_arrays_and_tensors_of_any_shape():
    cm = ConfusionMatrix(num_classes=4)
    cm.update(PRED.astype(np.uint8).reshape(2, 3), TARGET.astype(np.uint8).reshape(2, 3))
    cm.update(torch.tensor(PRED).view(1, 2, 3), torch.tensor(TARGET).view(1, 2, 3))
    np.testing.assert_array_equal(cm.compute()["confusion"], 2 * _hand_case().compute()["confusion"])


def test_shape_mismatch_names_both_shapes():
    with pytest.raises(InputError, match=r"pred \(2, 3\).*target \(3, 2\)"):
        ConfusionMatrix(num_classes=4).update(np.zeros((2, 3), int), np.zeros((3, 2), int))


@pytest.mark.parametrize("bad", [4, -1, 255])
def test_prediction_out_of_range_is_refused(bad):
    with pytest.raises(InputError, match=r"pred holds class ids"):
        ConfusionMatrix(num_classes=4).update(np.array([0, bad]), np.array([0, 1]))


def test_target_that_is_neither_class_nor_ignore_is_refused():
    with pytest.raises(InputError, match="trainIds"):
        ConfusionMatrix(num_classes=4).update(np.array([0, 1]), np.array([0, 7]))


def test_float_predictions_are_refused():
    with pytest.raises(InputError, match="argmax"):
        ConfusionMatrix(num_classes=4).update(torch.rand(2, 3), torch.zeros(2, 3, dtype=torch.long))


def test_merge_refuses_different_settings():
    with pytest.raises(InputError, match="num_classes 4 vs 5"):
        ConfusionMatrix(num_classes=4).merge(ConfusionMatrix(num_classes=5))


def test_ignore_index_inside_class_range_is_refused():
    with pytest.raises(InputError, match="ignore_index"):
        ConfusionMatrix(num_classes=4, ignore_index=2)


def test_all_reduce_is_a_no_op_without_a_process_group():
    cm = _hand_case()
    before = cm.compute()["confusion"]
    assert not dist.is_initialized()
    np.testing.assert_array_equal(cm.all_reduce().compute()["confusion"], before)


def test_all_reduce_sums_over_a_single_rank_group(tmp_path):
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'pg'}", rank=0, world_size=1)
    try:
        cm = _hand_case()
        before = cm.compute()["confusion"]
        np.testing.assert_array_equal(cm.all_reduce().compute()["confusion"], before)
    finally:
        dist.destroy_process_group()


def test_format_table_lists_classes_na_and_summary():
    table = format_table(_hand_case().compute(), class_names=["a", "b", "c", "d"])
    lines = table.splitlines()
    rows = {line.split()[0]: line.split()[-1] for line in lines if line and not line.startswith("-")}
    assert rows["a"] == "33.33" and rows["b"] == "66.67" and rows["c"] == "0.00"
    assert rows["d"] == "n/a"
    assert rows["mIoU"] == "33.33"
    assert lines[-1].startswith("pixel acc.") and lines[-1].endswith("60.00")
    assert len({len(line) for line in lines}) == 1  # fixed width


def test_format_table_refuses_wrong_number_of_names():
    with pytest.raises(InputError, match="class_names has 2 names"):
        format_table(_hand_case().compute(), class_names=["a", "b"])
