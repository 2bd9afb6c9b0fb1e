"""Backbone weights: ImageNet via torchvision (never downloaded here) or a local file."""

from __future__ import annotations

import urllib.error

import pytest
import torch
from torchvision.models import MobileNet_V3_Large_Weights, ResNet101_Weights, mobilenet_v3_large

from ccdistill.errors import CheckpointError, InputError, WeightsUnavailableError
from ccdistill.models import build_segmenter

MOBILENET_FILE = "mobilenet_v3_large-8738ca79.pth"


def _offline(*args, **kwargs):
    raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")


@pytest.mark.parametrize(
    "name, weights_enum, file_name",
    [
        ("deeplabv2_resnet101", ResNet101_Weights, "resnet101-63fe2227.pth"),
        ("mobilenetv3_lraspp", MobileNet_V3_Large_Weights, MOBILENET_FILE),
    ],
)
def test_imagenet_offline_names_both_options(monkeypatch, name, weights_enum, file_name):
    monkeypatch.setattr(weights_enum, "get_state_dict", _offline)
    with pytest.raises(WeightsUnavailableError) as info:
        build_segmenter(name, weights="imagenet")
    message = str(info.value)
    assert f'weights="/path/to/{file_name}"' in message
    assert "connect to the internet" in message
    assert torch.hub.get_dir() in message
    assert isinstance(info.value.__cause__, urllib.error.URLError)


def test_imagenet_with_network_blocked_by_conftest():
    # No monkeypatch: the hub cache is empty and conftest blocks the download itself.
    with pytest.raises(WeightsUnavailableError, match="connect to the internet"):
        build_segmenter("mobilenetv3_lraspp", weights="imagenet")


def test_imagenet_from_hub_cache_ignores_the_image_classifier(monkeypatch):
    reference = mobilenet_v3_large().state_dict()  # includes classifier.* keys
    monkeypatch.setattr(MobileNet_V3_Large_Weights, "get_state_dict", lambda *a, **k: reference)
    segmenter = build_segmenter("mobilenetv3_lraspp", weights="imagenet")
    torch.testing.assert_close(
        segmenter.backbone.features[0][0].weight, reference["features.0.0.weight"]
    )


def test_tiny_has_no_imagenet_weights():
    with pytest.raises(InputError, match="tiny has no ImageNet weights"):
        build_segmenter("tiny", weights="imagenet")


@pytest.mark.parametrize("as_string", [False, True])
def test_weights_from_path(tmp_path, as_string):
    reference = mobilenet_v3_large().state_dict()
    path = tmp_path / MOBILENET_FILE
    torch.save(reference, path)
    segmenter = build_segmenter("mobilenetv3_lraspp", weights=str(path) if as_string else path)
    for key in ("features.0.0.weight", "features.16.1.running_mean"):
        torch.testing.assert_close(segmenter.backbone.state_dict()[key], reference[key])


def test_missing_file(tmp_path):
    path = tmp_path / "absent.pth"
    with pytest.raises(CheckpointError) as info:
        build_segmenter("tiny", weights=path)
    assert str(path) in str(info.value) and "does not exist" in str(info.value)


def test_typo_of_imagenet_is_pointed_out():
    with pytest.raises(CheckpointError, match="did you mean weights='imagenet'"):
        build_segmenter("tiny", weights="imagenett")


def test_unreadable_file(tmp_path):
    path = tmp_path / "corrupt.pth"
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError) as info:
        build_segmenter("tiny", weights=path)
    assert str(path) in str(info.value) and "could not be read" in str(info.value)


def test_wrong_keys_are_named(tmp_path):
    path = tmp_path / "tiny_backbone.pth"
    torch.save(build_segmenter("tiny").backbone.state_dict(), path)
    with pytest.raises(CheckpointError) as info:
        build_segmenter("mobilenetv3_lraspp", weights=path)
    message = str(info.value)
    assert str(path) in message
    assert "missing keys: features.0.0.weight" in message
    assert "unexpected keys: 0.weight" in message
    assert MOBILENET_FILE in message


def test_whole_segmenter_file_gets_a_hint(tmp_path):
    path = tmp_path / "tiny_segmenter.pth"
    torch.save(build_segmenter("tiny").state_dict(), path)
    with pytest.raises(CheckpointError, match="looks like a whole segmenter"):
        build_segmenter("tiny", weights=path)


def test_tiny_backbone_round_trip(tmp_path):
    source = build_segmenter("tiny")
    path = tmp_path / "tiny_backbone.pth"
    torch.save(source.backbone.state_dict(), path)
    loaded = build_segmenter("tiny", weights=path)
    torch.testing.assert_close(loaded.backbone[0].weight, source.backbone[0].weight)
