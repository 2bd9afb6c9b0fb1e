"""The camera of a ToyCity scene: where it stands (`View`) and how world points map to pixels.

Pinhole camera with zero pitch: a world point (X, Y, Z) relative to the camera projects to
u = c_x + f·X/Z, v = v_h + f·(h_c − Y)/Z (v_h the horizon row, h_c the camera height). Pixel
centres sit at half-integers (`Camera.u`, `Camera.v`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ccdistill.toycity.layout import StreetLayout

NEAR_CLIP = 0.8  # metres; closer geometry is not drawn
FAR_GROUND = 2000.0  # metres; ground rows nearer the horizon are clamped to this distance


@dataclass(frozen=True)
class View:
    """Where the camera is relative to the layout's canonical camera (day/night pairs use a
    small offset). scale zooms (focal length ×scale), shift moves the principal point by a
    fraction of (W, H), forward/lateral move the camera in metres."""

    scale: float = 1.0
    shift: tuple[float, float] = (0.0, 0.0)
    forward: float = 0.0
    lateral: float = 0.0


class Camera:
    """The layout's canonical camera moved by a `View`, for an image of `size` = (H, W).

    f: focal length in pixels; cx: principal column; vh: horizon row; hc: camera height (m);
    x0, z0: camera position in the world (m); u (W,), v (H,): pixel-centre columns and rows.
    """

    def __init__(self, layout: StreetLayout, size: tuple[int, int], view: View) -> None:
        self.height, self.width = size
        self.f = layout.focal * self.width * view.scale
        self.cx = self.width / 2 + view.shift[0] * self.width
        # The horizon row zooms about the image centre, then shifts with the principal point.
        centre = self.height / 2
        self.vh = centre + (layout.horizon * self.height - centre) * view.scale + view.shift[1] * self.height
        self.hc = layout.camera_height
        self.x0, self.z0 = view.lateral, view.forward
        self.u = np.arange(self.width, dtype=np.float32) + 0.5
        self.v = np.arange(self.height, dtype=np.float32) + 0.5

    def column_plane(self, side: int, x: float) -> tuple[np.ndarray, np.ndarray]:
        """For the vertical plane X = x: camera depth of each column's ray hit (W,), and which
        columns hit it in front of the camera."""
        du = self.u - self.cx
        xc = x - self.x0
        valid = (du * side > 0) & (xc * side > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            zc = np.where(valid, self.f * xc / np.where(valid, du, 1.0), np.inf)
        return zc.astype(np.float32), valid & (zc > NEAR_CLIP)

    def rows_between(self, zc: np.ndarray, y_low: np.ndarray | float, y_high: np.ndarray | float) -> np.ndarray:
        """H×W mask of pixels whose ray at camera depth zc (per column) lies between two heights."""
        with np.errstate(divide="ignore", invalid="ignore"):
            v_top = self.vh + self.f * (self.hc - y_high) / zc
            v_bottom = self.vh + self.f * (self.hc - y_low) / zc
        v = self.v[:, None]
        return (v >= v_top[None, :]) & (v < v_bottom[None, :])

    def box_slices(self, x0: float, x1: float, y_top: float, z0: float, z1: float) -> tuple[slice, slice] | None:
        """Pixel rows/cols that can see any point of a world box (conservative)."""
        zc0, zc1 = z0 - self.z0, z1 - self.z0
        if zc1 < NEAR_CLIP:
            return None
        if zc0 < NEAR_CLIP:
            return slice(0, self.height), slice(0, self.width)
        us = [self.cx + self.f * (x - self.x0) / zc for x in (x0, x1) for zc in (zc0, zc1)]
        top = min(self.vh + self.f * (self.hc - y_top) / zc for zc in (zc0, zc1))
        j0, j1 = max(int(np.floor(min(us))), 0), min(int(np.ceil(max(us))) + 1, self.width)
        i0 = max(int(np.floor(top)), 0)
        if j0 >= j1 or i0 >= self.height:
            return None
        return slice(i0, self.height), slice(j0, j1)
