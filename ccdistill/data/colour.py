"""sRGB <-> CIE Lab (D65 white) and uint8 <-> linear-light conversions on numpy arrays, for the
translations of translate.py (the sRGB transfer function itself is ccdistill/toycity/srgb.py, shared
with the ToyCity renderer)."""

from __future__ import annotations

import numpy as np

from ccdistill.toycity.srgb import linear_to_srgb, srgb_to_linear

__all__ = ["UINT8_MAX", "decode_srgb", "encode_srgb", "rgb_to_lab", "lab_to_rgb", "to_uint8"]

UINT8_MAX = 255.0

# Linear sRGB -> CIE XYZ under the D65 white point, and that white point.
RGB_TO_XYZ = np.array(
    [[0.4124564, 0.3575761, 0.1804375],
     [0.2126729, 0.7151522, 0.0721750],
     [0.0193339, 0.1191920, 0.9503041]],
    dtype=np.float64,
)
XYZ_TO_RGB = np.linalg.inv(RGB_TO_XYZ)
D65_WHITE = np.array([0.95047, 1.0, 1.08883])
LAB_DELTA = 6.0 / 29.0  # CIE Lab's linear-segment threshold


def _lab_f(t: np.ndarray) -> np.ndarray:
    return np.where(t > LAB_DELTA**3, np.cbrt(t), t / (3 * LAB_DELTA**2) + 4 / 29)


def _lab_f_inverse(t: np.ndarray) -> np.ndarray:
    return np.where(t > LAB_DELTA, t**3, 3 * LAB_DELTA**2 * (t - 4 / 29))


# Lookup tables, uint8 sRGB -> linear and linear (quantised to ENCODE_LEVELS) -> uint8 sRGB:
# they replace a power function per pixel and channel.
ENCODE_LEVELS = 65536
_DECODE_TABLE = srgb_to_linear(np.arange(256) / UINT8_MAX).astype(np.float32)
_ENCODE_TABLE = np.clip(
    linear_to_srgb(np.linspace(0.0, 1.0, ENCODE_LEVELS)) * UINT8_MAX + 0.5, 0, UINT8_MAX
).astype(np.uint8)
_RGB_TO_XYZ_NORMALISED = (RGB_TO_XYZ.T / D65_WHITE).astype(np.float32)  # linear RGB -> XYZ / white
_XYZ_NORMALISED_TO_RGB = (XYZ_TO_RGB * D65_WHITE).T.astype(np.float32)


def decode_srgb(image: np.ndarray) -> np.ndarray:
    """uint8 sRGB (any shape) -> float32 linear RGB in [0, 1], by table lookup."""
    return _DECODE_TABLE[np.asarray(image, dtype=np.uint8)]


def encode_srgb(linear: np.ndarray) -> np.ndarray:
    """Linear RGB floats (any shape; clipped to [0, 1]) -> uint8 sRGB."""
    index = np.rint(np.clip(linear, 0.0, 1.0) * (ENCODE_LEVELS - 1)).astype(np.int32)
    return _ENCODE_TABLE[index]


def rgb_to_lab(image: np.ndarray) -> np.ndarray:
    """H×W×3 uint8 sRGB -> H×W×3 float32 CIE Lab (D65): L in [0, 100], a and b about ±100."""
    f = _lab_f(_DECODE_TABLE[np.asarray(image, dtype=np.uint8)] @ _RGB_TO_XYZ_NORMALISED)
    fx, fy, fz = f[..., 0], f[..., 1], f[..., 2]
    return np.stack([116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)], axis=-1).astype(np.float32)


def lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """H×W×3 CIE Lab (D65) -> H×W×3 uint8 sRGB (out-of-gamut colours are clipped)."""
    lab = np.asarray(lab, dtype=np.float32)
    fy = (lab[..., 0] + 16) / 116
    f = np.stack([fy + lab[..., 1] / 500, fy, fy - lab[..., 2] / 200], axis=-1)
    return encode_srgb(_lab_f_inverse(f) @ _XYZ_NORMALISED_TO_RGB)


def to_uint8(image: np.ndarray) -> np.ndarray:
    """Floats in [0, 1] -> uint8 (rounded, clipped)."""
    return np.clip(np.asarray(image) * UINT8_MAX + 0.5, 0, UINT8_MAX).astype(np.uint8)
