"""The canvas a ToyCity scene is drawn into, back to front, and the `Drawing` the painters share.

Each painter module (ground, buildings, fences, props, road_users, lights) is a set of
functions taking a `Drawing`: the street and city to draw, the camera and the canvas.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ccdistill.labels import CLASS_NAMES
from ccdistill.toycity.camera import Camera
from ccdistill.toycity.layout import StreetLayout
from ccdistill.toycity.style import CityStyle

ID = {name: index for index, name in enumerate(CLASS_NAMES)}

# Surface normals, coded per pixel; NORMALS[code] is the unit vector.
N_NONE, N_UP, N_POS_X, N_NEG_X, N_CAMERA = range(5)
NORMALS = np.array([(0, 0, 0), (0, 1, 0), (1, 0, 0), (-1, 0, 0), (0, 0, -1)], dtype=np.float32)

# How much direct sun (cosine factor) and sky light each kind of surface receives.
FACADE_SUN = 0.85  # the facade facing the sun
END_WALL_SUN = 0.45
OBJECT_SUN = 0.6
PLANE_SUN = 0.6
HOOD_SUN = 0.35
FACADE_AMBIENT = 0.75
OBJECT_AMBIENT = 0.85
GROUND_AMBIENT = 1.0


class Canvas:
    """The per-pixel buffers of an image of `size` = (H, W): label (trainIds, sky until drawn),
    albedo (×3, linear), world position X, Y, Z (Z = inf: sky), normal code, sun and ambient
    factors, emission and signal (×3); plus the light sources met while drawing (street-lamp
    heads and the cars whose headlights face the camera), which light the scene later."""

    def __init__(self, size: tuple[int, int]) -> None:
        self.height, self.width = size
        shape = (self.height, self.width)
        self.label = np.full(shape, ID["sky"], dtype=np.uint8)
        self.albedo = np.zeros(shape + (3,), dtype=np.float32)
        self.X = np.zeros(shape, dtype=np.float32)
        self.Y = np.zeros(shape, dtype=np.float32)
        self.Z = np.full(shape, np.inf, dtype=np.float32)  # world Z; inf = sky
        self.normal = np.zeros(shape, dtype=np.uint8)
        self.sun = np.zeros(shape, dtype=np.float32)
        self.ambient = np.ones(shape, dtype=np.float32)
        self.emission = np.zeros(shape + (3,), dtype=np.float32)
        self.signal = np.zeros(shape + (3,), dtype=np.float32)
        self.lamps: list[tuple[float, float, float]] = []  # world positions of street-lamp heads
        self.oncoming: list[tuple[float, float]] = []  # (x, z) of cars with headlights toward us

    def write(self, index: np.ndarray, label, albedo, X, Y, Z, normal: int, sun, ambient: float,
              emission=0.0, signal=0.0) -> None:
        """Write a surface at flat pixel indices; every value is a scalar or one entry per index.
        (Flat-index writes are several times faster than boolean-mask writes.)"""
        flat = lambda buffer: buffer.reshape(-1) if buffer.ndim == 2 else buffer.reshape(-1, 3)  # noqa: E731
        flat(self.label)[index] = label
        flat(self.albedo)[index] = albedo
        flat(self.X)[index] = X
        flat(self.Y)[index] = Y
        flat(self.Z)[index] = Z
        flat(self.normal)[index] = normal
        flat(self.sun)[index] = sun
        flat(self.ambient)[index] = ambient
        flat(self.emission)[index] = emission
        flat(self.signal)[index] = signal

    def set(self, mask: np.ndarray, label, albedo: np.ndarray, X, Y, Z, normal: int,
            sun, ambient: float) -> None:
        """Write a surface where the H×W mask is True; array values broadcast to H×W (×3)."""
        index = np.flatnonzero(mask)
        if index.size == 0:
            return
        rows, cols = np.divmod(index, self.width)
        pick = lambda value: np.broadcast_to(value, mask.shape)[rows, cols] if np.ndim(value) else value  # noqa: E731
        label = pick(label)
        colour = albedo if np.ndim(albedo) == 1 else np.broadcast_to(albedo, mask.shape + (3,))[rows, cols]
        self.write(index, label, colour, pick(X), pick(Y), pick(Z), normal, pick(sun), ambient)


@dataclass(eq=False)
class Drawing:
    """One scene being drawn: what (layout, city), from where (camera), into what (canvas)."""

    layout: StreetLayout
    city: CityStyle
    camera: Camera
    canvas: Canvas
