"""The ground: road, lane dashes and zebra crossings, sidewalks with paving slabs, kerbs, terrain.

Depth is constant along an image row below the horizon, so the ground is evaluated per pixel in
closed form: each pixel's world (x, z) picks a surface kind, whose colour is textured with
world-anchored noise.
"""

from __future__ import annotations

import numpy as np

from ccdistill.toycity.camera import FAR_GROUND
from ccdistill.toycity.canvas import GROUND_AMBIENT, ID, N_UP, Drawing
from ccdistill.toycity.layout import KERB_WIDTH, LANE_DASH_DUTY, LANE_DASH_PERIOD
from ccdistill.toycity.textures import value_noise

GROUND_TEXTURE = 0.10
GROUND_TEXTURE_FADE = 40.0  # metres over which fine ground texture fades (it would alias)
MARKING_HALF_WIDTH = 0.07
CROSSWALK = (4.5, 0.8, 1.0)  # (starts before the side street, ends before it, stripe period), m
SLAB_SIZE = 0.6  # sidewalk paving slab (metres)
SLAB_JOINT = 0.07  # fraction of a slab that is joint
SLAB_DISTANCE = 25.0  # joints further away are not drawn (sub-pixel)
SLAB_JOINT_SHADE = 0.85
# Ground surface kinds (index the layout's ground colours) and their trainIds.
GROUND_ROAD, GROUND_SIDEWALK, GROUND_TERRAIN, GROUND_KERB, GROUND_MARKING = range(5)
GROUND_LABELS = np.array([ID["road"], ID["sidewalk"], ID["terrain"], ID["sidewalk"], ID["road"]], np.uint8)


def draw_ground(d: Drawing) -> None:
    """Fill every row below the horizon with the ground (it is drawn first: all else occludes it)."""
    layout, cam, canvas = d.layout, d.camera, d.canvas
    dv = cam.v - cam.vh
    first = int(np.searchsorted(dv, 0.5))  # rows below the horizon
    if first >= cam.height:
        return
    # Depth is constant along a ground row: per-row quantities are (h, 1) columns.
    zc = np.minimum(cam.f * cam.hc / dv[first:], FAR_GROUND)[:, None]
    zw = zc + cam.z0
    xw = (cam.u[None, :] - cam.cx) * zc / cam.f + cam.x0
    kind = _surface_kinds(d, xw, zw)
    table = np.stack([layout.road_colour, layout.sidewalk_colour, layout.terrain_colour,
                      layout.kerb_colour, layout.marking_colour])
    fade = 1.0 / (1.0 + zc / GROUND_TEXTURE_FADE)
    texture = 1.0 + (GROUND_TEXTURE * fade) * value_noise(layout.noise_table, xw * 1.5, zw * 1.5)
    near = zc[:, 0] < SLAB_DISTANCE
    slab_rows = np.mod(zw, SLAB_SIZE) < SLAB_SIZE * SLAB_JOINT
    joints = slab_rows[near] | (np.mod(xw[near], SLAB_SIZE) < SLAB_SIZE * SLAB_JOINT)
    slabs = (kind[near] == GROUND_SIDEWALK) & joints
    texture[near] *= np.where(slabs, SLAB_JOINT_SHADE, 1.0)
    rows = slice(first, cam.height)
    canvas.label[rows] = GROUND_LABELS[kind]
    canvas.albedo[rows] = table[kind] * texture[..., None]
    canvas.X[rows], canvas.Y[rows], canvas.Z[rows] = xw, 0.0, zw
    canvas.normal[rows] = N_UP
    canvas.sun[rows] = layout.ground_lit(xw, zw)
    canvas.ambient[rows] = GROUND_AMBIENT


def _surface_kinds(d: Drawing, xw: np.ndarray, zw: np.ndarray) -> np.ndarray:
    """GROUND_* kind (uint8) of the ground at world positions xw, zw (h×w)."""
    layout = d.layout
    road = (xw >= layout.road_left) & (xw <= layout.road_right)
    crossing = layout.in_crossing(zw)
    sidewalk = (xw >= layout.sidewalk_outer(-1)) & (xw <= layout.sidewalk_outer(1)) & ~road & ~crossing
    kind = np.full(xw.shape, GROUND_TERRAIN, np.uint8)
    kind[sidewalk] = GROUND_SIDEWALK
    kind[road | crossing] = GROUND_ROAD
    kerb = sidewalk & ((np.abs(xw - layout.road_left) < KERB_WIDTH) | (np.abs(xw - layout.road_right) < KERB_WIDTH))
    kind[kerb] = GROUND_KERB
    # Lane dashes, and a zebra crossing in front of a side street.
    dashes = np.mod(zw, LANE_DASH_PERIOD) < LANE_DASH_PERIOD * LANE_DASH_DUTY
    marking = np.zeros(xw.shape, bool)
    for line in layout.lane_lines:
        marking |= (np.abs(xw - line) < MARKING_HALF_WIDTH) & dashes
    for z0, _ in layout.crossings:
        zebra = (zw > z0 - CROSSWALK[0]) & (zw < z0 - CROSSWALK[1])
        if zebra.any():
            marking |= zebra & (np.mod(xw, CROSSWALK[2]) < CROSSWALK[2] / 2)
    kind[marking & road] = GROUND_MARKING
    return kind
