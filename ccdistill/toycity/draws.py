"""The random draws the street and traffic samplers share."""

from __future__ import annotations

import numpy as np

from ccdistill.toycity.srgb import srgb_to_linear
from ccdistill.toycity.style import Range


def uniform(rng: np.random.Generator, bounds: Range) -> float:
    """One float uniform in [low, high)."""
    return float(rng.uniform(bounds[0], bounds[1]))


def integers(rng: np.random.Generator, bounds: tuple[int, int]) -> int:
    """One integer uniform in [low, high] (both ends included)."""
    return int(rng.integers(bounds[0], bounds[1] + 1))


def palette_colour(rng: np.random.Generator, colours, jitter: float = 0.0) -> np.ndarray:
    """One palette colour (sRGB in [0, 1]) as linear albedo (3,) float32, with a
    multiplicative per-object variation of relative size `jitter`."""
    colour = np.asarray(colours[int(rng.integers(len(colours)))], dtype=np.float32)
    colour = np.clip(colour * (1.0 + jitter * rng.standard_normal()), 0.0, 1.0)
    return srgb_to_linear(colour).astype(np.float32)
