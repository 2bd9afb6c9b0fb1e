"""Billboards: upright objects (props, cars, persons) drawn as flat shapes facing the camera.

An object at world (x, z) gets a `Region`, its bounding box in pixels with metric coordinates
relative to the object; a painter builds an integer `part` map over it from `rect`/`ellipse`
masks (0 = not drawn) and `paint` writes each part's label, colour and light.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ccdistill.toycity.camera import NEAR_CLIP, Camera
from ccdistill.toycity.canvas import N_CAMERA, OBJECT_AMBIENT, OBJECT_SUN, Drawing


@dataclass
class Region:
    """A billboard's bounding box in pixels and its local metric coordinates."""

    rows: slice
    cols: slice
    xm: np.ndarray  # 1×w metres right of the object's centre
    ym: np.ndarray  # h×1 metres above the ground
    pixel: float  # metres per pixel at the object's depth


def rect(r: Region, x0: float, x1: float, y0: float, y1: float) -> np.ndarray:
    """Axis-aligned rectangle, at least one pixel wide so thin poles never vanish."""
    centre, half = (x0 + x1) / 2, max((x1 - x0) / 2, 0.55 * r.pixel)
    return (np.abs(r.xm - centre) < half) & (r.ym >= y0) & (r.ym < y1)


def ellipse(r: Region, cx: float, cy: float, rx: float, ry: float) -> np.ndarray:
    rx, ry = max(rx, 0.55 * r.pixel), max(ry, 0.55 * r.pixel)
    return ((r.xm - cx) / rx) ** 2 + ((r.ym - cy) / ry) ** 2 < 1.0


def region(cam: Camera, x: float, z: float, x_lo: float, x_hi: float, top: float) -> Region | None:
    """The pixels of the box [x + x_lo, x + x_hi] × [0, top] standing at depth z (None if behind
    the near clip or off-image)."""
    zc, xc = z - cam.z0, x - cam.x0
    if zc < NEAR_CLIP:
        return None
    u0 = cam.cx + cam.f * (xc + x_lo) / zc
    u1 = cam.cx + cam.f * (xc + x_hi) / zc
    v0 = cam.vh + cam.f * (cam.hc - top) / zc
    v1 = cam.vh + cam.f * cam.hc / zc
    j0, j1 = max(int(np.floor(u0)) - 1, 0), min(int(np.ceil(u1)) + 1, cam.width)
    i0, i1 = max(int(np.floor(v0)) - 1, 0), min(int(np.ceil(v1)) + 1, cam.height)
    if j0 >= j1 or i0 >= i1:
        return None
    xm = ((cam.u[j0:j1] - cam.cx) * zc / cam.f - xc)[None, :]
    ym = (cam.hc - (cam.v[i0:i1] - cam.vh) * zc / cam.f)[:, None]
    return Region(slice(i0, i1), slice(j0, j1), xm, ym, zc / cam.f)


def paint(d: Drawing, r: Region, part: np.ndarray, labels, colours, x: float, z: float,
          emission=None, signal=None, shade: np.ndarray | None = None) -> None:
    """Write one billboard: `part` (h×w int) indexes the per-part tables (0 = not drawn)."""
    part = np.broadcast_to(part, (r.ym.shape[0], r.xm.shape[1]))
    rows, cols = np.nonzero(part)
    if rows.size == 0:
        return
    p = part[rows, cols]
    albedo = np.asarray(colours, np.float32)[p]
    if shade is not None:
        albedo = albedo * np.broadcast_to(shade, part.shape)[rows, cols][:, None]
    lit = float(d.layout.ground_lit(np.float32(x), np.float32(z)))
    index = (rows + r.rows.start) * d.camera.width + cols + r.cols.start
    d.canvas.write(
        index, np.asarray(labels, np.uint8)[p], albedo, r.xm[0, cols] + x, r.ym[rows, 0], z, N_CAMERA,
        OBJECT_SUN * lit, OBJECT_AMBIENT,
        0.0 if emission is None else np.asarray(emission, np.float32)[p],
        0.0 if signal is None else np.asarray(signal, np.float32)[p],
    )
