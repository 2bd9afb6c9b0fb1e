"""A few-layer segmenter for CI and quick experiments: same interface, ~60k parameters."""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import nn
from torchvision.models import WeightsEnum

from ccdistill.models.segmenter import Segmenter

TINY_CHANNELS: tuple[int, ...] = (16, 32, 64)  # one stride-2 stage each: output stride 8


def _conv_bn_relu(in_channels: int, out_channels: int, stride: int = 1, dilation: int = 1):
    return [
        nn.Conv2d(in_channels, out_channels, 3, stride, padding=dilation, dilation=dilation,
                  bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    ]


class TinyBackbone(nn.Sequential):
    """Three stride-2 conv-BN-ReLU stages and one dilated one: N×3×H×W → N×64×H/8×W/8."""

    imagenet_weights: ClassVar[WeightsEnum | None] = None
    ignored_weight_prefixes: ClassVar[tuple[str, ...]] = ()

    def __init__(self, channels: tuple[int, ...] = TINY_CHANNELS) -> None:
        layers, in_channels = [], 3
        for out_channels in channels:
            layers += _conv_bn_relu(in_channels, out_channels, stride=2)
            in_channels = out_channels
        # A dilated last layer widens the receptive field at no cost in resolution.
        layers += _conv_bn_relu(in_channels, in_channels, dilation=2)
        super().__init__(*layers)
        self.out_channels = in_channels


class TinySegmenter(Segmenter):
    """Tiny CNN, output stride 8. F = the last conv-BN-ReLU output (C = 64)."""

    name = "tiny"
    output_stride = 8
    size_divisor = 8
    min_size = 16

    def __init__(self, num_classes: int = 19) -> None:
        backbone = TinyBackbone()
        super().__init__(num_classes, feature_channels=backbone.out_channels)
        self.backbone = backbone
        self.classifier = nn.Conv2d(self.feature_channels, num_classes, 1)

    def extract_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.backbone(x)
