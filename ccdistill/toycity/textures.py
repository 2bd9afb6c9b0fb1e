"""Procedural texture helpers: world-anchored value noise, integer hashes, smoothstep, glow.

World-anchored noise (a function of metres, not pixels) keeps a facade's or a road's texture
the same when the camera moves, which the day/night pairs rely on.
"""

from __future__ import annotations

import numpy as np
from PIL import Image
from scipy import ndimage

# Odd 32-bit multipliers that scatter consecutive integers (Knuth / xxHash style mixing).
HASH_MULTIPLIERS: tuple[int, ...] = (0x9E3779B1, 0x85EBCA77, 0xC2B2AE3D, 0x27D4EB2F)
HASH_SHIFT = 15
UINT32_RANGE = float(2**32)


def value_noise(table: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Smooth value noise: bilinear (smoothstep-eased) interpolation of an n×n random lattice
    (n a power of two), tiled periodically. `a`, `b` are lattice coordinates of any
    broadcastable shapes; returns float32 of the broadcast shape, about unit variance."""
    n = table.shape[0]
    wrap = n - 1  # n is a power of two: & wrap is a cheap modulo that also handles negatives
    flat = table.reshape(-1)
    a = np.asarray(a, dtype=np.float32)
    b = np.asarray(b, dtype=np.float32)
    a_floor, b_floor = np.floor(a), np.floor(b)
    fa, fb = a - a_floor, b - b_floor
    fa = fa * fa * (3 - 2 * fa)
    fb = fb * fb * (3 - 2 * fb)
    ia = (a_floor.astype(np.int32) & wrap) * n
    ib = b_floor.astype(np.int32) & wrap
    ia1, ib1 = (ia + n) & (wrap * n + wrap), (ib + 1) & wrap
    top = flat[ia + ib] * (1 - fb) + flat[ia + ib1] * fb
    bottom = flat[ia1 + ib] * (1 - fb) + flat[ia1 + ib1] * fb
    return top * (1 - fa) + bottom * fa


def hash01(seed: int, *keys: np.ndarray) -> np.ndarray:
    """Deterministic pseudo-random numbers in [0, 1) from integer keys (broadcast together):
    the same (seed, keys) always gives the same value, e.g. whether a given window is lit."""
    state = np.uint32(seed & 0xFFFFFFFF)
    h = np.full(np.broadcast_shapes(*(np.shape(k) for k in keys)), state, dtype=np.uint32)
    for index, key in enumerate(keys):
        multiplier = np.uint32(HASH_MULTIPLIERS[index % len(HASH_MULTIPLIERS)])
        h = (h ^ np.asarray(key).astype(np.int64).astype(np.uint32)) * multiplier
        h ^= h >> np.uint32(HASH_SHIFT)
    h = h * np.uint32(HASH_MULTIPLIERS[0])
    h ^= h >> np.uint32(HASH_SHIFT)
    return h.astype(np.float32) / np.float32(UINT32_RANGE)


def smoothstep(edge0: float, edge1: float, x: float) -> float:
    """0 below edge0, 1 above edge1, a C1 ramp between."""
    t = min(max((x - edge0) / (edge1 - edge0), 0.0), 1.0)
    return t * t * (3 - 2 * t)


def mean_pool(image: np.ndarray, factor: int) -> np.ndarray:
    """H×W×C -> (H//factor)×(W//factor)×C block means (a sum of strided views: faster than a
    reshape + mean over a 5-D array)."""
    h, w = image.shape[0] // factor, image.shape[1] // factor
    total = sum(image[i : h * factor : factor, j : w * factor : factor] for i in range(factor) for j in range(factor))
    return total / np.float32(factor**2)


def glow(emitters: np.ndarray, near: tuple[float, float], far: tuple[float, float]) -> np.ndarray:
    """Bloom around light sources: a tight halo (Gaussian σ = near[0] px at 1/2 resolution,
    weight near[1]) plus a wide one (σ = far[0] px at 1/4 resolution, weight far[1]), H×W×3.
    Blurring at reduced resolution keeps wide halos cheap; they are smooth anyway."""
    half = mean_pool(emitters, 2)
    quarter = mean_pool(half, 2)
    halo = near[1] * ndimage.gaussian_filter(half, sigma=(near[0], near[0], 0), mode="nearest")
    bloom = far[1] * ndimage.gaussian_filter(quarter, sigma=(far[0], far[0], 0), mode="nearest")
    return upsample_bilinear(halo + upsample_bilinear(bloom, half.shape[:2]), emitters.shape[:2])


def upsample_bilinear(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """h×w×C float32 -> size[0]×size[1]×C float32, bilinear with pixel centres aligned."""
    height, width = size
    channels = [
        np.asarray(Image.fromarray(np.ascontiguousarray(image[..., c], dtype=np.float32))
                   .resize((width, height), Image.BILINEAR))
        for c in range(image.shape[2])
    ]
    return np.stack(channels, axis=-1)
