"""The training-only projection head of CDC (docs/METHOD.md, section 3): F → e, unit-norm per pixel."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ccdistill.errors import InputError


def check_features(features: object, channels: int | None = None, owner: str = "embed") -> None:
    """Raise InputError unless `features` is an N×C×h×w tensor (with C = channels if given)."""
    if not isinstance(features, torch.Tensor) or features.dim() != 4:
        given = (
            f"has shape {tuple(features.shape)}" if isinstance(features, torch.Tensor)
            else f"is a {type(features).__name__}"
        )
        raise InputError(
            f"features {given}, but {owner} expects a 4-D N×C×h×w tensor: pass "
            "SegmenterOutput.features."
        )
    if channels is not None and features.shape[1] != channels:
        raise InputError(
            f"features has {features.shape[1]} channels (shape {tuple(features.shape)}), but "
            f"{owner} was built for {channels}; build it with in_channels={features.shape[1]} "
            "(segmenter.feature_channels) or pass the features of the matching segmenter."
        )


class ProjectionHead(nn.Module):
    """1×1 conv C→C → BatchNorm → ReLU → 1×1 conv C→D → L2 normalisation along channels.

    One head is shared by the four streams S_d, S_n, T_d, T_n; it is absent from the deployed
    model.

    Args:
        in_channels: C, the channels of the segmenter features F.
        embedding_dim: D, the channels of the embedding e.
    """

    def __init__(self, in_channels: int, embedding_dim: int = 128) -> None:
        super().__init__()
        for arg, value in (("in_channels", in_channels), ("embedding_dim", embedding_dim)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InputError(f"{arg} is {value!r}, but a positive int was expected.")
        self.in_channels = in_channels
        self.embedding_dim = embedding_dim
        self.layers = nn.Sequential(
            nn.Conv2d(in_channels, in_channels, 1, bias=False),
            nn.BatchNorm2d(in_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(in_channels, embedding_dim, 1),
        )

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """features F: N×C×h×w → e: N×D×h×w with unit L2 norm at every pixel."""
        check_features(features, self.in_channels, owner="ProjectionHead")
        return F.normalize(self.layers(features), dim=1)
