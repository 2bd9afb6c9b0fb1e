"""predict() (resize, padding, sliding windows) and evaluate() on tiny in-memory datasets."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from ccdistill.errors import InputError
from ccdistill.evaluation import evaluate, predict
from ccdistill.evaluation.inference import _window_starts

from .standins import ConstantSegmenter, ContextSegmenter, OracleSegmenter, PointwiseSegmenter


# ----------------------------------------------------------------------------- windows
@pytest.mark.parametrize(
    ("length", "window", "stride", "expected"),
    [(10, 4, 3, [0, 3, 6]), (11, 4, 3, [0, 3, 6, 7]), (8, 8, 5, [0]), (3, 8, 2, [0]), (9, 4, 4, [0, 4, 5])],
)
def test_window_starts_cover_the_axis_with_the_last_window_flush(length, window, stride, expected):
    starts = _window_starts(length, window, stride)
    assert starts == expected
    covered = np.zeros(length, bool)
    for s in starts:
        covered[s:s + min(window, length)] = True
    assert covered.all()
    assert starts[-1] + min(window, length) == length


def test_sliding_window_equal_to_the_image_reproduces_plain_prediction():
    model = ContextSegmenter(num_classes=5)
    image = torch.randn(2, 3, 12, 16)
    plain = predict(model, image)
    windowed = predict(model, image, sliding_window=(12, 16))
    torch.testing.assert_close(windowed, plain, rtol=0, atol=0)


def test_overlapping_windows_match_whole_image_for_a_translation_equivariant_model():
    model = PointwiseSegmenter(num_classes=6, size_divisor=4)
    image = torch.randn(1, 3, 20, 28)
    plain = predict(model, image)
    model.seen_sizes.clear()
    windowed = predict(model, image, sliding_window=(8, 12), stride=(5, 7))
    torch.testing.assert_close(windowed, plain, rtol=1e-5, atol=1e-6)
    # 20 rows: starts 0,5,10 and flush 12; 28 cols: 0,7,14 and flush 16 -> 4 × 4 windows.
    assert model.seen_sizes == [(8, 12)] * 16


def test_overlapping_windows_differ_for_a_model_with_context():
    # Guards the test above: with zero-padded 3×3 convolutions window borders do matter.
    model = ContextSegmenter(num_classes=5)
    image = torch.randn(1, 3, 16, 16)
    assert not torch.allclose(predict(model, image), predict(model, image, sliding_window=(8, 8)), atol=1e-4)


def test_probabilities_are_a_softmax_at_the_input_size_by_default():
    model = ContextSegmenter(num_classes=5)
    probs = predict(model, torch.randn(3, 3, 8, 12))
    assert probs.shape == (3, 5, 8, 12) and probs.dtype == torch.float32
    torch.testing.assert_close(probs.sum(1), torch.ones(3, 8, 12))


def test_size_is_rounded_up_to_the_size_divisor_and_output_returns_to_input_size():
    model = PointwiseSegmenter(num_classes=4, size_divisor=4)
    probs = predict(model, torch.randn(1, 3, 9, 13), size=(10, 14))
    assert model.seen_sizes == [(12, 16)]
    assert probs.shape == (1, 4, 9, 13)


def test_indivisible_input_is_padded_and_cropped_without_resampling():
    model = PointwiseSegmenter(num_classes=4, size_divisor=4)
    image = torch.randn(1, 3, 10, 14)
    probs = predict(model, image)
    assert model.seen_sizes == [(12, 16)]
    expected = F.conv2d(image, model.conv.weight, model.conv.bias).softmax(1)
    torch.testing.assert_close(probs, expected)


def test_output_size_resizes_probabilities():
    model = ContextSegmenter(num_classes=5)
    probs = predict(model, torch.randn(1, 3, 8, 8), output_size=(16, 24))
    assert probs.shape == (1, 5, 16, 24)
    torch.testing.assert_close(probs.sum(1), torch.ones(1, 16, 24))


def test_predict_restores_training_mode_and_uses_eval_mode():
    model = ContextSegmenter(num_classes=5)
    image = torch.randn(1, 3, 8, 8)
    model.eval()
    reference = predict(model, image)
    model.train()
    again = predict(model, image)
    assert model.training
    # In train mode BatchNorm would use the batch statistics and give another result.
    torch.testing.assert_close(again, reference)


def test_predict_refuses_unbatched_or_integer_images():
    model = ContextSegmenter()
    with pytest.raises(InputError, match="unsqueeze"):
        predict(model, torch.randn(3, 8, 8))
    with pytest.raises(InputError, match="float"):
        predict(model, torch.zeros(1, 3, 8, 8, dtype=torch.uint8))



def test_integer_images_are_told_the_model_s_own_normalisation():
    from ccdistill.models import build_segmenter

    model = build_segmenter("efficientnet_lite0", num_classes=3)
    with pytest.raises(InputError, match=r"mean \[0.5, 0.5, 0.5\] and std \[0.5, 0.5, 0.5\]"):
        predict(model, torch.zeros(1, 3, 64, 64, dtype=torch.uint8))


# ----------------------------------------------------------------------------- evaluate
def _oracle_dataset(n: int = 3, h: int = 8, w: int = 12) -> list[dict]:
    generator = torch.Generator().manual_seed(3)
    items = []
    for _ in range(n):
        label = torch.randint(0, 6, (h, w), generator=generator)
        image = torch.zeros(3, h, w)
        image[0] = label.float()  # the oracle reads the class from channel 0
        label[torch.rand(h, w, generator=generator) < 0.1] = 255
        items.append({"image": image, "label": label, "name": "unused"})
    return items


def test_evaluate_with_a_perfect_model_gives_miou_one():
    result, cm = evaluate(OracleSegmenter(), _oracle_dataset(), progress=False)
    assert result["miou"] == pytest.approx(1.0)
    assert result["pixel_accuracy"] == pytest.approx(1.0)
    assert np.isnan(result["per_class_iou"][6:]).all()  # classes 6..18 never occur
    assert cm.compute()["num_pixels"] == result["num_pixels"] > 0


def _half_resolution_dataset(n: int = 2) -> list[dict]:
    # 8×12 label: rows 0-2 class 0 (36 px), rows 3-6 class 2 (48 px), row 7 ignored (12 px);
    # the image is at half resolution, so probabilities must be upsampled to the label.
    label = torch.full((8, 12), 255, dtype=torch.long)
    label[0:3] = 0
    label[3:7] = 2
    return [{"image": torch.randn(3, 4, 6), "label": label.clone()} for _ in range(n)]


@pytest.mark.parametrize(("batch_size", "max_images"), [(1, None), (2, None), (1, 1)])
def test_evaluate_with_a_constant_model_matches_hand_computation(batch_size, max_images):
    result, _ = evaluate(ConstantSegmenter(label=0), _half_resolution_dataset(), batch_size=batch_size,
                         max_images=max_images, progress=False)
    images = 1 if max_images == 1 else 2
    iou = result["per_class_iou"]
    # Predict 0 everywhere: IoU_0 = 36 / (36 + 48), IoU_2 = 0, the rest absent.
    assert iou[0] == pytest.approx(36 / 84)
    assert iou[2] == 0.0
    assert np.isnan(np.delete(iou, [0, 2])).all()
    assert result["miou"] == pytest.approx((36 / 84) / 2)
    assert result["pixel_accuracy"] == pytest.approx(36 / 84)
    assert result["num_pixels"] == 84 * images


def test_evaluate_refuses_items_without_image_and_label():
    with pytest.raises(InputError, match="'image'"):
        evaluate(ConstantSegmenter(), [{"img": torch.zeros(3, 4, 4)}], progress=False)
