"""The sRGB transfer function (IEC 61966-2-1): sRGB-encoded values <-> linear RGB, both in [0, 1].

Kept apart from `ccdistill.data` so that the ToyCity renderer (`ccdistill.toycity`, which works
in linear light) and the day->night translations (`ccdistill.data.translate`) share it without
the renderer importing the data package.
"""

from __future__ import annotations

import numpy as np

SRGB_LINEAR_THRESHOLD = 0.04045
SRGB_LINEAR_SLOPE = 12.92
SRGB_OFFSET = 0.055
SRGB_EXPONENT = 2.4


def srgb_to_linear(srgb: np.ndarray) -> np.ndarray:
    """sRGB values in [0, 1] (any shape) -> linear RGB in [0, 1]."""
    srgb = np.asarray(srgb)
    return np.where(
        srgb <= SRGB_LINEAR_THRESHOLD,
        srgb / SRGB_LINEAR_SLOPE,
        ((srgb + SRGB_OFFSET) / (1 + SRGB_OFFSET)) ** SRGB_EXPONENT,
    )


def linear_to_srgb(linear: np.ndarray) -> np.ndarray:
    """Linear RGB in [0, 1] (any shape) -> sRGB in [0, 1] (input clipped to [0, 1] first)."""
    linear = np.clip(linear, 0.0, 1.0)
    return np.where(
        linear <= SRGB_LINEAR_THRESHOLD / SRGB_LINEAR_SLOPE,
        linear * SRGB_LINEAR_SLOPE,
        (1 + SRGB_OFFSET) * linear ** (1 / SRGB_EXPONENT) - SRGB_OFFSET,
    )
