"""Tiny stand-in segmenters with the segmenter interface (forward -> .logits, num_classes,
size_divisor) whose outputs are known exactly, so evaluation results can be computed by hand."""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn


class Output(NamedTuple):
    logits: torch.Tensor
    features: torch.Tensor


class _Base(nn.Module):
    def __init__(self, num_classes: int, size_divisor: int) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.size_divisor = size_divisor
        self.seen_sizes: list[tuple[int, int]] = []

    def _check(self, x: torch.Tensor) -> None:
        h, w = x.shape[-2:]
        # Like the real segmenters: refuse sizes that are not multiples of size_divisor.
        if h % self.size_divisor or w % self.size_divisor:
            raise ValueError(f"input {h}x{w} not divisible by {self.size_divisor}")
        self.seen_sizes.append((h, w))


class PointwiseSegmenter(_Base):
    """A 1×1 convolution: every pixel's logits depend on that pixel only, so the model is
    exactly translation-equivariant and sliding windows must reproduce whole-image logits."""

    def __init__(self, num_classes: int = 19, size_divisor: int = 4) -> None:
        super().__init__(num_classes, size_divisor)
        self.conv = nn.Conv2d(3, num_classes, 1)

    def forward(self, x: torch.Tensor) -> Output:
        self._check(x)
        logits = self.conv(x)
        return Output(logits, logits)


class ContextSegmenter(_Base):
    """3×3 convolutions with zero padding and BatchNorm: uses context, so windows smaller than
    the image change the result near window borders."""

    def __init__(self, num_classes: int = 19, size_divisor: int = 4) -> None:
        super().__init__(num_classes, size_divisor)
        self.body = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
            nn.Conv2d(8, num_classes, 3, padding=1),
        )

    def forward(self, x: torch.Tensor) -> Output:
        self._check(x)
        logits = self.body(x)
        return Output(logits, logits)


class OracleSegmenter(_Base):
    """Reads the class id from image channel 0 and predicts it with near-certainty."""

    def __init__(self, num_classes: int = 19) -> None:
        super().__init__(num_classes, 1)

    def forward(self, x: torch.Tensor) -> Output:
        ids = torch.arange(self.num_classes, dtype=x.dtype, device=x.device).view(1, -1, 1, 1)
        logits = -20.0 * (x[:, :1] - ids) ** 2
        return Output(logits, logits)


class ConstantSegmenter(_Base):
    """Predicts class `label` everywhere."""

    def __init__(self, label: int = 0, num_classes: int = 19) -> None:
        super().__init__(num_classes, 1)
        self.label = label

    def forward(self, x: torch.Tensor) -> Output:
        n, _, h, w = x.shape
        logits = torch.zeros(n, self.num_classes, h, w, device=x.device)
        logits[:, self.label] = 5.0
        return Output(logits, logits)
