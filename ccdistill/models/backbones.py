"""torchvision ImageNet backbones made dense: dilation instead of the last strides, so the
feature map keeps the resolution segmentation needs.

Each backbone keeps torchvision's parameter names, so a torchvision ImageNet state dict loads
into it directly once the image-classifier keys (`ignored_weight_prefixes`) are dropped.
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import nn
from torchvision.models import (
    MobileNet_V3_Large_Weights,
    ResNet101_Weights,
    WeightsEnum,
    mobilenet_v3_large,
    resnet101,
)


class ResNet101OS8(nn.Module):
    """ResNet-101 with layer3 and layer4 dilated (2 and 4): N×3×H×W → N×2048×H/8×W/8."""

    imagenet_weights: ClassVar[WeightsEnum | None] = ResNet101_Weights.IMAGENET1K_V1
    ignored_weight_prefixes: ClassVar[tuple[str, ...]] = ("fc.",)
    out_channels: ClassVar[int] = 2048

    def __init__(self) -> None:
        super().__init__()
        net = resnet101(weights=None, replace_stride_with_dilation=[False, True, True])
        self.conv1, self.bn1, self.relu, self.maxpool = net.conv1, net.bn1, net.relu, net.maxpool
        self.layer1, self.layer2, self.layer3, self.layer4 = (
            net.layer1, net.layer2, net.layer3, net.layer4,
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))


class MobileNetV3LargeOS16(nn.Module):
    """MobileNetV3-Large with its last stage dilated: N×3×H×W → N×960×H/16×W/16."""

    imagenet_weights: ClassVar[WeightsEnum | None] = MobileNet_V3_Large_Weights.IMAGENET1K_V1
    ignored_weight_prefixes: ClassVar[tuple[str, ...]] = ("classifier.",)
    out_channels: ClassVar[int] = 960

    def __init__(self) -> None:
        super().__init__()
        self.features = mobilenet_v3_large(weights=None, dilated=True).features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)
