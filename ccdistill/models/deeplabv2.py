"""DeepLab-v2 (Chen et al. 2017) on a dilated ResNet-101, the DANNet/CCDistill paper model."""

from __future__ import annotations

import torch
from torch import nn

from ccdistill.models.backbones import ResNet101OS8
from ccdistill.models.segmenter import Segmenter

ASPP_RATES: tuple[int, ...] = (6, 12, 18, 24)


class DilatedSumClassifier(nn.Module):
    """DeepLab-v2's ASPP classifier: the SUM of parallel 3×3 convs with different dilations,
    each mapping F straight to class scores. N×C×h×w → N×K×h×w."""

    def __init__(self, in_channels: int, num_classes: int, rates: tuple[int, ...] = ASPP_RATES):
        super().__init__()
        self.branches = nn.ModuleList(
            nn.Conv2d(in_channels, num_classes, 3, padding=rate, dilation=rate) for rate in rates
        )
        for conv in self.branches:
            # The original Caffe model starts these from N(0, 0.01): small logits at first.
            nn.init.normal_(conv.weight, std=0.01)
            nn.init.zeros_(conv.bias)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return sum(branch(features) for branch in self.branches)


class DeepLabV2ResNet101(Segmenter):
    """DeepLab-v2, output stride 8. F = the ResNet-101 layer4 output (C = 2048)."""

    name = "deeplabv2_resnet101"
    output_stride = 8
    size_divisor = 8
    min_size = 16

    def __init__(self, num_classes: int = 19) -> None:
        super().__init__(num_classes, feature_channels=ResNet101OS8.out_channels)
        self.backbone = ResNet101OS8()
        self.classifier = DilatedSumClassifier(self.feature_channels, num_classes)

    def extract_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.backbone(x)
