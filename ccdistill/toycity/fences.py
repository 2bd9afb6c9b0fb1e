"""Fences, walls and hedges: vertical strips parallel to the street (`LinePlane`), drawn like
facades (one depth per image column), with bars and rails that let the background show through."""

from __future__ import annotations

import numpy as np

from ccdistill.toycity.canvas import ID, N_NEG_X, N_POS_X, OBJECT_AMBIENT, PLANE_SUN, Drawing
from ccdistill.toycity.textures import value_noise

LABELS = {"fence": ID["fence"], "wall": ID["wall"], "hedge": ID["vegetation"]}


def draw_fences(d: Drawing) -> None:
    """Fences, walls and hedges, outermost first (inner ones occlude)."""
    cam = d.camera
    for plane in sorted(d.layout.planes, key=lambda p: -abs(p.x)):
        zc, valid = cam.column_plane(plane.side, plane.x)
        zw = np.where(valid, zc + cam.z0, 0.0)
        valid &= (zw >= plane.z0) & (zw < plane.z1)
        if not valid.any():
            continue
        top = np.full(cam.width, plane.height, np.float32)
        if plane.kind == "hedge":
            top = top * (1.0 + 0.12 * value_noise(d.layout.noise_table, zw * 1.3, 5.0 + plane.side))
        mask = cam.rows_between(np.where(valid, zc, np.inf), 0.0, top) & valid[None, :]
        index = np.flatnonzero(mask)
        rows, cols = np.divmod(index, cam.width)
        height = cam.hc - (cam.v[rows] - cam.vh) * zc[cols] / cam.f
        if plane.kind == "fence":
            # Bars every 0.2 m plus two rails; the gaps show what is behind.
            bars = np.mod(zw[cols], 0.2) < 0.08
            rails = (height > plane.height - 0.08) | ((height > 0.12) & (height < 0.2))
            keep = bars | rails | (zc[cols] > 30.0)  # far fences blur into a surface
            index, cols, height = index[keep], cols[keep], height[keep]
        if index.size == 0:
            continue
        shade = 1.0 + 0.15 * value_noise(d.layout.noise_table, zw[cols] * 2.0, height * 2.0)
        sun = PLANE_SUN if plane.side == -d.layout.sun_side else 0.0
        d.canvas.write(index, LABELS[plane.kind], plane.colour * shade[:, None], plane.x, height, zw[cols],
                       N_POS_X if plane.side < 0 else N_NEG_X, sun, OBJECT_AMBIENT)
