"""Procedural texture helpers: world-anchored value noise, integer hashes, smoothstep, blur.

World-anchored noise (a function of metres, not pixels) keeps a facade's or a road's texture
the same when the camera moves, which the day/night pairs rely on.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

# Odd 32-bit multipliers that scatter consecutive integers (Knuth / xxHash style mixing).
HASH_MULTIPLIERS: tuple[int, ...] = (0x9E3779B1, 0x85EBCA77, 0xC2B2AE3D, 0x27D4EB2F)
HASH_SHIFT = 15
UINT32_RANGE = float(2**32)


def value_noise(table: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Smooth value noise: bilinear (smoothstep-eased) interpolation of an n×n random lattice,
    tiled periodically. `a`, `b` are lattice coordinates of any broadcastable shapes; returns
    float32 of the broadcast shape with roughly unit variance at lattice points."""
    n = table.shape[0]
    a = np.asarray(a, dtype=np.float32)
    b = np.asarray(b, dtype=np.float32)
    a_floor, b_floor = np.floor(a), np.floor(b)
    fa, fb = a - a_floor, b - b_floor
    fa = fa * fa * (3 - 2 * fa)
    fb = fb * fb * (3 - 2 * fb)
    ia = a_floor.astype(np.int64) % n
    ib = b_floor.astype(np.int64) % n
    ia1, ib1 = (ia + 1) % n, (ib + 1) % n
    top = table[ia, ib] * (1 - fb) + table[ia, ib1] * fb
    bottom = table[ia1, ib] * (1 - fb) + table[ia1, ib1] * fb
    return (top * (1 - fa) + bottom * fa).astype(np.float32)


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


def blur(image: np.ndarray, sigma: float, downsample: int = 1) -> np.ndarray:
    """Gaussian blur of an H×W×C float image; with downsample > 1 the blur runs on a mean-pooled
    copy and is upsampled back bilinearly (cheap wide blurs for glow)."""
    if downsample <= 1:
        return ndimage.gaussian_filter(image, sigma=(sigma, sigma, 0), mode="nearest")
    height, width = image.shape[:2]
    h, w = height // downsample, width // downsample
    pooled = image[: h * downsample, : w * downsample].reshape(h, downsample, w, downsample, -1).mean(axis=(1, 3))
    pooled = ndimage.gaussian_filter(pooled, sigma=(sigma, sigma, 0), mode="nearest")
    return upsample_bilinear(pooled, (height, width))


def upsample_bilinear(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """h×w×C -> size[0]×size[1]×C, bilinear with pixel centres aligned (edges clamped)."""
    h, w = image.shape[:2]
    height, width = size
    ys = np.clip((np.arange(height) + 0.5) * h / height - 0.5, 0, h - 1)
    xs = np.clip((np.arange(width) + 0.5) * w / width - 0.5, 0, w - 1)
    y0, x0 = np.floor(ys).astype(int), np.floor(xs).astype(int)
    y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
    fy, fx = (ys - y0)[:, None, None], (xs - x0)[None, :, None]
    rows0, rows1 = image[y0], image[y1]
    top = rows0[:, x0] * (1 - fx) + rows0[:, x1] * fx
    bottom = rows1[:, x0] * (1 - fx) + rows1[:, x1] * fx
    return (top * (1 - fy) + bottom * fy).astype(image.dtype)
