"""The interface every segmenter shares: one forward pass returns the prediction P and the
feature map F that CDC and CDS compare (docs/METHOD.md, section 3)."""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from ccdistill.errors import InputError
from ccdistill.normalization import IMAGENET_MEAN, IMAGENET_STD, RGB, Normalization


class SegmenterOutput(NamedTuple):
    """What M_d and M_n return for one batch.

    logits: N×K×H×W class scores, bilinearly upsampled to the input size (align_corners=False).
    features: N×C×h×w, the penultimate map that enters the final classifier, with
        h = H / output_stride and w = W / output_stride.
    """

    logits: torch.Tensor
    features: torch.Tensor


def round_up(value: int, multiple: int, minimum: int = 1) -> int:
    """The smallest multiple of `multiple` that is >= value and >= minimum (a size a segmenter
    with that divisor and minimum accepts)."""
    return max(minimum, -(-value // multiple) * multiple)


class Segmenter(nn.Module):
    """Base class of the segmenters: `backbone` (ImageNet-initialisable) → head → `classifier`.

    Subclasses set the class attributes, build `backbone` and `classifier`, and implement
    `extract_features`; the base checks the input and upsamples the logits.

    Attributes:
        name: the architecture name `build_segmenter` knows it by.
        num_classes: K, the number of output classes.
        feature_channels: C, the channels of the feature map F.
        output_stride: input size / feature-map size.
        size_divisor: height and width of the input must be multiples of it.
        min_size: smallest height and width accepted (keeps F at least 2×2, which BatchNorm in
            training mode needs at batch size 1).
        input_mean, input_std: the per-channel (R, G, B) normalisation of images in [0, 1] that
            the backbone's pretrained weights expect; `normalization()` bundles them for the
            data pipeline, inference and `deploy.pt`.
    """

    name: str = "segmenter"
    output_stride: int = 8
    size_divisor: int = 8
    min_size: int = 16
    input_mean: RGB = IMAGENET_MEAN
    input_std: RGB = IMAGENET_STD
    backbone: nn.Module
    classifier: nn.Module  # F → N×K×h×w; the only part after F

    def __init__(self, num_classes: int, feature_channels: int) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.feature_channels = feature_channels

    @classmethod
    def normalization(cls) -> Normalization:
        """The input normalisation of this architecture (mean, std of RGB in [0, 1])."""
        return Normalization(cls.input_mean, cls.input_std)

    def extract_features(self, x: torch.Tensor) -> torch.Tensor:
        """x: N×3×H×W normalised images → F: N×C×(H/output_stride)×(W/output_stride)."""
        raise NotImplementedError

    def check_input(self, x: object) -> None:
        """Raise InputError unless x is a float N×3×H×W tensor of a size this network takes."""
        if not isinstance(x, torch.Tensor):
            raise InputError(
                f"x must be a torch.Tensor of shape N×3×H×W, but {self.name} was given "
                f"{type(x).__name__}; convert the images with torch.as_tensor and stack them."
            )
        if x.dim() != 4:
            hint = " add a batch dimension with x.unsqueeze(0)" if x.dim() == 3 else ""
            raise InputError(
                f"x has shape {tuple(x.shape)} ({x.dim()}-D), but {self.name} expects a 4-D "
                f"N×3×H×W batch;{hint or ' reshape it to N×3×H×W'}."
            )
        if x.shape[1] != 3:
            plural = "" if x.shape[1] == 1 else "s"
            raise InputError(
                f"x has {x.shape[1]} channel{plural} (shape {tuple(x.shape)}), but {self.name} "
                "expects 3 (RGB) in dimension 1 of N×3×H×W; repeat grey images with "
                "x.expand(-1, 3, -1, -1) or move channels first with x.permute(0, 3, 1, 2)."
            )
        if not x.is_floating_point():
            raise InputError(
                f"x has dtype {x.dtype}, but {self.name} expects a float tensor; convert with "
                f"x.float() / 255 and normalise with mean {list(self.input_mean)} and std "
                f"{list(self.input_std)} (its `normalization()`)."
            )
        height, width = x.shape[-2:]
        divisor, minimum = self.size_divisor, self.min_size
        if height % divisor or width % divisor or height < minimum or width < minimum:
            suggested = (
                f"{round_up(height, divisor, minimum)}×{round_up(width, divisor, minimum)}"
            )
            raise InputError(
                f"x has spatial size {height}×{width}, but {self.name} needs height and width "
                f"divisible by {divisor} and at least {minimum}; pad or resize, "
                f"e.g. to {suggested}."
            )

    def forward(self, x: torch.Tensor) -> SegmenterOutput:
        """x: N×3×H×W → SegmenterOutput(logits N×K×H×W, features N×C×h×w)."""
        self.check_input(x)
        features = self.extract_features(x)
        logits = self.classifier(features)
        logits = F.interpolate(logits, size=x.shape[-2:], mode="bilinear", align_corners=False)
        return SegmenterOutput(logits, features)
