"""PSPNet (Zhao et al. 2017) on a dilated ResNet-101, the DANNet baseline model."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ccdistill.errors import InputError
from ccdistill.models.backbones import ResNet101OS8
from ccdistill.models.segmenter import Segmenter

PYRAMID_BINS: tuple[int, ...] = (1, 2, 3, 6)
BOTTLENECK_CHANNELS = 512


def _conv_bn_relu(in_channels: int, out_channels: int, kernel_size: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class PyramidPooling(nn.Module):
    """Average-pool F to each bin×bin grid, reduce, upsample back and concatenate with F.
    N×C×h×w → N×(C + len(bins)·branch_channels)×h×w."""

    def __init__(
        self, in_channels: int, branch_channels: int, bins: tuple[int, ...] = PYRAMID_BINS
    ) -> None:
        super().__init__()
        self.branches = nn.ModuleList(
            nn.Sequential(
                nn.AdaptiveAvgPool2d(size), *_conv_bn_relu(in_channels, branch_channels, 1)
            )
            for size in bins
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = x.shape[-2:]
        pooled = [
            F.interpolate(branch(x), size=size, mode="bilinear", align_corners=False)
            for branch in self.branches
        ]
        return torch.cat([x, *pooled], dim=1)


class PSPNetResNet101(Segmenter):
    """PSPNet, output stride 8. F = the 512-channel bottleneck after pyramid pooling."""

    name = "pspnet_resnet101"
    output_stride = 8
    size_divisor = 8
    min_size = 16

    def __init__(self, num_classes: int = 19) -> None:
        super().__init__(num_classes, feature_channels=BOTTLENECK_CHANNELS)
        self.backbone = ResNet101OS8()
        in_channels = ResNet101OS8.out_channels
        self.pyramid = PyramidPooling(in_channels, in_channels // len(PYRAMID_BINS))
        self.bottleneck = _conv_bn_relu(2 * in_channels, BOTTLENECK_CHANNELS, 3)
        self.classifier = nn.Sequential(
            nn.Dropout2d(0.1), nn.Conv2d(BOTTLENECK_CHANNELS, num_classes, 1)
        )

    def check_input(self, x: object) -> None:
        super().check_input(x)
        # The 1×1 bin holds one value per channel per image: BatchNorm in training mode cannot
        # normalise a batch of one (frozen BatchNorm, as with freeze_bn, can).
        batchnorm_trains = any(
            isinstance(m, nn.BatchNorm2d) and m.training for m in self.pyramid.modules()
        )
        if batchnorm_trains and x.shape[0] < 2:
            raise InputError(
                f"x has batch size {x.shape[0]}, but {self.name} in training mode needs at least "
                "2 images (BatchNorm in its 1×1 pyramid bin); use a batch of 2 or more, freeze "
                "BatchNorm, or call .eval() for inference."
            )

    def extract_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.bottleneck(self.pyramid(self.backbone(x)))
