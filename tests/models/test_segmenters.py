"""Every architecture: shapes, forward and backward on CPU, and input checks that say what to do."""

from __future__ import annotations

import pytest
import torch

from ccdistill.errors import InputError
from ccdistill.models import SEGMENTER_NAMES, Segmenter, SegmenterOutput, build_segmenter

NUM_CLASSES = 5
# (feature channels C, output stride) as docs/METHOD.md, section 3 gives them.
EXPECTED = {
    "deeplabv2_resnet101": (2048, 8),
    "pspnet_resnet101": (512, 8),
    "mobilenetv3_lraspp": (128, 16),
    "efficientnet_lite0": (128, 8),
    "tiny": (64, 8),
}
# Small enough for a 2-core CPU; not square, so a transposed H/W would be caught.
INPUT_SIZE = {
    "deeplabv2_resnet101": (64, 48),
    "pspnet_resnet101": (64, 48),
    "mobilenetv3_lraspp": (64, 96),
    "efficientnet_lite0": (64, 96),
    "tiny": (64, 128),
}


@pytest.fixture(scope="module", params=SEGMENTER_NAMES)
def segmenter(request) -> Segmenter:
    # Built once per architecture: the ResNet-101 models take about a second each on CPU.
    return build_segmenter(request.param, num_classes=NUM_CLASSES)


def test_names_cover_all_architectures():
    assert set(SEGMENTER_NAMES) == set(EXPECTED)


def test_attributes(segmenter):
    channels, stride = EXPECTED[segmenter.name]
    assert segmenter.num_classes == NUM_CLASSES
    assert segmenter.feature_channels == channels
    assert segmenter.output_stride == stride
    assert segmenter.size_divisor % stride == 0


def test_forward_backward(segmenter):
    segmenter.train()
    height, width = INPUT_SIZE[segmenter.name]
    x = torch.randn(2, 3, height, width)
    output = segmenter(x)
    assert isinstance(output, SegmenterOutput)
    stride = segmenter.output_stride
    assert output.logits.shape == (2, NUM_CLASSES, height, width)
    assert output.features.shape == (
        2, segmenter.feature_channels, height // stride, width // stride,
    )
    output.logits.square().mean().backward()
    missing = [name for name, p in segmenter.named_parameters() if p.grad is None]
    assert missing == []
    assert all(torch.isfinite(p.grad).all() for p in segmenter.parameters())
    segmenter.zero_grad(set_to_none=True)


def test_logits_are_the_classifier_on_the_features_upsampled(segmenter):
    segmenter.eval()
    height, width = INPUT_SIZE[segmenter.name]
    x = torch.randn(1, 3, height, width)
    with torch.no_grad():
        logits, features = segmenter(x)
        low = segmenter.classifier(features)
        expected = torch.nn.functional.interpolate(
            low, size=(height, width), mode="bilinear", align_corners=False
        )
    torch.testing.assert_close(logits, expected)


def _raises_input_error(segmenter: Segmenter, x: torch.Tensor) -> str:
    with pytest.raises(InputError) as info:
        segmenter(x)
    return str(info.value)


def test_indivisible_size_names_x_divisor_and_a_fix(segmenter):
    divisor = segmenter.size_divisor
    message = _raises_input_error(segmenter, torch.zeros(1, 3, 4 * divisor + 2, 4 * divisor))
    assert "x has spatial size" in message
    assert f"divisible by {divisor}" in message
    assert f"{5 * divisor}×{4 * divisor}" in message  # rounded up to the next multiple


def test_too_small_input(segmenter):
    divisor = segmenter.size_divisor
    message = _raises_input_error(segmenter, torch.zeros(1, 3, divisor, 4 * divisor))
    assert f"at least {segmenter.min_size}" in message


def test_one_channel_input(segmenter):
    message = _raises_input_error(segmenter, torch.zeros(1, 1, 64, 64))
    assert message.startswith("x has 1 channel ")
    assert "expects 3" in message


def test_three_dimensional_input(segmenter):
    message = _raises_input_error(segmenter, torch.zeros(3, 64, 64))
    assert message.startswith("x has shape (3, 64, 64)")
    assert "4-D" in message and "unsqueeze(0)" in message


def test_integer_input():
    x = torch.zeros(1, 3, 64, 64, dtype=torch.uint8)
    message = _raises_input_error(build_segmenter("tiny"), x)
    assert "x has dtype torch.uint8" in message and "float" in message


def test_not_a_tensor():
    message = _raises_input_error(build_segmenter("tiny"), [[0.0]])
    assert message.startswith("x must be a torch.Tensor")


@pytest.mark.parametrize("segmenter", ["pspnet_resnet101"], indirect=True)
def test_pspnet_training_needs_two_images(segmenter):
    segmenter.train()
    message = _raises_input_error(segmenter, torch.zeros(1, 3, 64, 64))
    assert "x has batch size 1" in message and "at least 2" in message


@pytest.mark.parametrize("segmenter", ["pspnet_resnet101"], indirect=True)
def test_pspnet_batch_of_one_with_frozen_batchnorm(segmenter):
    # freeze_bn training: the network is in train mode, its BatchNorm layers are not.
    segmenter.train()
    batchnorms = [m for m in segmenter.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    for batchnorm in batchnorms:
        batchnorm.eval()
    try:
        with torch.no_grad():
            logits, _ = segmenter(torch.randn(1, 3, 32, 32))
    finally:
        for batchnorm in batchnorms:
            batchnorm.train()
    assert logits.shape == (1, NUM_CLASSES, 32, 32)


def test_tiny_is_tiny():
    tiny = build_segmenter("tiny")
    assert sum(p.numel() for p in tiny.parameters()) < 100_000


def test_unknown_name_lists_names_and_suggests():
    with pytest.raises(InputError) as info:
        build_segmenter("deeplabv2_resnet50")
    message = str(info.value)
    assert message.startswith("name is 'deeplabv2_resnet50'")
    assert "did you mean 'deeplabv2_resnet101'" in message
    assert all(name in message for name in SEGMENTER_NAMES)


@pytest.mark.parametrize("num_classes", [0, -3, 2.5, True])
def test_bad_num_classes(num_classes):
    with pytest.raises(InputError, match="num_classes"):
        build_segmenter("tiny", num_classes=num_classes)


def test_bad_weights_type():
    with pytest.raises(InputError, match="weights is a dict"):
        build_segmenter("tiny", weights={})
