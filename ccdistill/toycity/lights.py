"""Artificial light: the irradiance that street lamps and low-beam headlights cast on every
drawn surface (before `render` switches it on with the night strength).

Lamps are points with inverse-square falloff and a cosine term on the surface normal; a
headlight is a beam pattern on the road ahead of its car. Both use the canvas's world
positions and normals, so this runs after everything is drawn.
"""

from __future__ import annotations

import numpy as np

from ccdistill.toycity.camera import FAR_GROUND
from ccdistill.toycity.canvas import N_NONE, NORMALS, Drawing
from ccdistill.toycity.textures import upsample_bilinear

LIGHT_SUBSAMPLE = 2  # artificial light is computed on a grid this much coarser
LAMP_REACH = 4.0  # lamp light is computed within this many lamp heights
LAMP_SOFTNESS = 0.8  # metres added to distances (no singularity at the lamp)
HEADLIGHT_PEAK, HEADLIGHT_RANGE = 9.0, 14.0  # metres: where low beams hit the road, how far
HEADLIGHT_SPREAD = (0.8, 0.22)  # beam half-width: metres at the car + metres per metre ahead
HEADLIGHT_CUTOFF = 1.1  # metres: low beams light little above this height
ONCOMING_HEADLIGHT = 0.5  # oncoming cars' beams relative to the ego car's


def artificial_light(d: Drawing) -> np.ndarray:
    """H×W×3 irradiance from street lamps and headlights (scaled by on(t) when rendered).

    Computed on every LIGHT_SUBSAMPLE-th pixel and upsampled: the light varies slowly,
    and this is the most expensive layer."""
    cam, canvas = d.camera, d.canvas
    step = LIGHT_SUBSAMPLE
    light = d.city.illumination
    X, Y = canvas.X[::step, ::step], canvas.Y[::step, ::step]
    normal = canvas.normal[::step, ::step]
    Z = np.where(normal == N_NONE, FAR_GROUND, canvas.Z[::step, ::step])  # sky: far, normal 0
    normals = NORMALS[normal]
    irradiance = np.zeros(X.shape + (3,), np.float32)
    lamp_colour = np.asarray(light.lamp_colour, np.float32) * light.lamp_intensity
    for lx, ly, lz in canvas.lamps:
        reach = LAMP_REACH * ly
        box = cam.box_slices(lx - reach, lx + reach, ly + 1.0, lz - reach, lz + reach)
        if box is None:
            continue
        sl = tuple(slice(b.start // step, -(-b.stop // step)) for b in box)
        dx, dy, dz = lx - X[sl], ly - Y[sl], lz - Z[sl]
        d2 = dx * dx + dy * dy + dz * dz + np.float32(LAMP_SOFTNESS**2)
        n = normals[sl]
        cosine = np.maximum(n[..., 0] * dx + n[..., 1] * dy + n[..., 2] * dz, 0.0) / np.sqrt(d2)
        irradiance[sl] += (cosine / d2)[..., None] * lamp_colour
    head_colour = np.asarray(light.headlight_colour, np.float32) * light.headlight_intensity
    beams = beam(X, Y, Z, cam.x0, cam.z0, +1.0)
    for cx, cz in canvas.oncoming:
        beams += ONCOMING_HEADLIGHT * beam(X, Y, Z, cx, cz, -1.0)
    irradiance += beams[..., None] * head_colour
    return upsample_bilinear(irradiance, (cam.height, cam.width))


def beam(X: np.ndarray, Y: np.ndarray, Z: np.ndarray, x: float, z: float, direction: float) -> np.ndarray:
    """Low-beam pattern of a car at (x, z) facing +Z (direction 1) or -Z (-1) on the
    surfaces at world positions X, Y, Z (same shapes)."""
    ahead = (Z - z) * direction
    valid = ahead > 1.5
    ahead = np.where(valid, ahead, 0.0)
    spread = HEADLIGHT_SPREAD[0] + HEADLIGHT_SPREAD[1] * ahead
    lateral = np.exp(-(((X - x) / spread) ** 2))
    reach = 1.0 / (1.0 + ((ahead - HEADLIGHT_PEAK) / HEADLIGHT_RANGE) ** 2)
    cutoff = np.exp(-np.maximum(Y - HEADLIGHT_CUTOFF, 0.0) * 2.0)
    return np.where(valid, lateral * reach * cutoff, 0.0).astype(np.float32)
