"""The CPU-friendly segmenter: MobileNetV3-Large with a Lite R-ASPP-style head
(Howard et al. 2019), for laptops and the teaching notebooks."""

from __future__ import annotations

import torch
from torch import nn

from ccdistill.models.backbones import MobileNetV3LargeOS16
from ccdistill.models.segmenter import Segmenter

HEAD_CHANNELS = 128


class LiteRASPP(nn.Module):
    """A 1×1 projection gated by a squeeze-and-excitation-like global branch: the image-level
    context of ASPP at the cost of one pooled vector. N×C_in×h×w → N×C_out×h×w."""

    def __init__(self, in_channels: int, out_channels: int = HEAD_CHANNELS) -> None:
        super().__init__()
        self.project = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        )
        self.gate = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Conv2d(in_channels, out_channels, 1), nn.Sigmoid()
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.project(x) * self.gate(x)


class MobileNetV3LRASPP(Segmenter):
    """MobileNetV3-Large (output stride 16) + Lite R-ASPP head. F = the 128-channel gated map."""

    name = "mobilenetv3_lraspp"
    output_stride = 16
    size_divisor = 16
    min_size = 32

    def __init__(self, num_classes: int = 19) -> None:
        super().__init__(num_classes, feature_channels=HEAD_CHANNELS)
        self.backbone = MobileNetV3LargeOS16()
        self.head = LiteRASPP(MobileNetV3LargeOS16.out_channels, HEAD_CHANNELS)
        self.classifier = nn.Conv2d(HEAD_CHANNELS, num_classes, 1)

    def extract_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(x))
