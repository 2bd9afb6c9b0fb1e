"""Rasterise a `StreetLayout` + `Traffic` seen from a `View` into illumination-free layers.

The result, `SceneLayers`, holds everything that does not depend on the time of day: labels,
albedo, how much sun and sky light each pixel receives, the irradiance of the artificial lights
(street lamps, headlights), the emitters (lamp heads, lit windows, car lights, signals) and
their glow. `render.py` only combines these with the lighting of a given night strength, which
is why a re-render costs a few milliseconds.

Pinhole camera with zero pitch: a world point (X, Y, Z) relative to the camera projects to
u = c_x + f·X/Z, v = v_h + f·(h_c − Y)/Z (v_h the horizon row, h_c the camera height). The
ground, facades, fences and the distant skyline are evaluated per pixel or per column in closed
form; objects (trees, poles, lamps, signals, signs, cars, persons) are billboards painted far to
near inside their bounding boxes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ccdistill.labels import CLASS_NAMES, IGNORE_INDEX, train_ids_to_label_ids
from ccdistill.srgb import srgb_to_linear
from ccdistill.toycity.layout import (
    FACADE_BUILDING, KERB_WIDTH, LANE_DASH_DUTY, LANE_DASH_PERIOD, SKYLINE_DISTANCE, SKYLINE_TREES,
    Car, Person, Prop, StreetLayout, Traffic,
)
from ccdistill.toycity.style import CityStyle
from ccdistill.toycity.textures import glow, hash01, upsample_bilinear, value_noise

ID = {name: index for index, name in enumerate(CLASS_NAMES)}
EGO_VEHICLE_LABEL_ID = 1  # Cityscapes labelId of "ego vehicle" (trainId: ignored)

# Surface normals, coded per pixel; NORMALS[code] is the unit vector.
N_NONE, N_UP, N_POS_X, N_NEG_X, N_CAMERA = range(5)
NORMALS = np.array([(0, 0, 0), (0, 1, 0), (1, 0, 0), (-1, 0, 0), (0, 0, -1)], dtype=np.float32)

NEAR_CLIP = 0.8  # metres; closer geometry is not drawn
FAR_GROUND = 2000.0  # metres; ground rows nearer the horizon are clamped to this distance
SKY_CURVE = 0.6  # exponent shaping the zenith-horizon gradient
CLOUD_SCALE = (2.5, 10.0)  # cloud lattice cells across the image (vertical, horizontal)
GRAIN = 0.05  # per-pixel albedo grain (fraction)
GROUND_TEXTURE = 0.10
GROUND_TEXTURE_FADE = 40.0  # metres over which fine ground texture fades (it would alias)
FACADE_TEXTURE = 0.07
MARKING_HALF_WIDTH = 0.07
CROSSWALK = (4.5, 0.8, 1.0)  # (starts before the side street, ends before it, stripe period), m
SLAB_SIZE = 0.6  # sidewalk paving slab (metres)
SLAB_JOINT = 0.07  # fraction of a slab that is joint
SLAB_DISTANCE = 25.0  # joints further away are not drawn (sub-pixel)
SLAB_JOINT_SHADE = 0.85
# Ground surface kinds (index the layout's ground colours) and their trainIds.
GROUND_ROAD, GROUND_SIDEWALK, GROUND_TERRAIN, GROUND_KERB, GROUND_MARKING = range(5)
GROUND_LABELS = np.array([ID["road"], ID["sidewalk"], ID["terrain"], ID["sidewalk"], ID["road"]], np.uint8)
GROUND_FLOOR = 1.25  # ground floor height as a multiple of the floor height
WINDOW_SILL = 0.28  # window bottom as a fraction of the floor height
CORNICE = (0.7, 0.35)  # metres below the roof line: cornice band
PLINTH = 0.45  # metres: darker base of a facade
END_WALL_DEPTH = 25.0  # metres: depth of the buildings along a side street
SHADOW_LATERAL = 0.7  # share of the sun direction across the street (vs along it)
FACADE_SUN = 0.85  # cosine factor of sunlight on the facade facing the sun
END_WALL_SUN = 0.45
OBJECT_SUN = 0.6
PLANE_SUN = 0.6
FACADE_AMBIENT = 0.75
OBJECT_AMBIENT = 0.85
GROUND_AMBIENT = 1.0
HOOD_FRACTION = 0.075  # share of the image height the ego hood covers at the centre
HOOD_CURVE = 0.45
HOOD_SUN = 0.35
LIGHT_SUBSAMPLE = 2  # artificial light is computed on a grid this much coarser
LAMP_REACH = 4.0  # lamp light is computed within this many lamp heights
LAMP_SOFTNESS = 0.8  # metres added to distances (no singularity at the lamp)
HEADLIGHT_PEAK, HEADLIGHT_RANGE = 9.0, 14.0  # metres: where low beams hit the road, how far
HEADLIGHT_SPREAD = (0.8, 0.22)  # beam half-width: metres at the car + metres per metre ahead
HEADLIGHT_CUTOFF = 1.1  # metres: low beams light little above this height
ONCOMING_HEADLIGHT = 0.5  # oncoming cars' beams relative to the ego car's
GLOW_NEAR = (0.8, 0.30)  # (sigma in 1/2-resolution pixels, weight): tight halo
GLOW_FAR = (3.0, 0.55)  # (sigma in 1/4-resolution pixels, weight): wide bloom
SHOP_EMISSION = 1.0  # shop windows relative to living-room windows
SHOP_LIT_PROBABILITY = 0.5
GLASS_SHADE = (0.8, 1.25)  # random brightness range of window panes


@dataclass(frozen=True)
class View:
    """Where the camera is relative to the layout's canonical camera (day/night pairs use a
    small offset). scale zooms (focal length ×scale), shift moves the principal point by a
    fraction of (W, H), forward/lateral move the camera in metres."""

    scale: float = 1.0
    shift: tuple[float, float] = (0.0, 0.0)
    forward: float = 0.0
    lateral: float = 0.0


@dataclass(eq=False)
class SceneLayers:
    """The intrinsic (illumination-free) image layers of one scene.

    label: H×W uint8 trainIds (255 = ignored, the ego hood); label_ids: H×W uint8 Cityscapes
    labelIds; albedo: H×W×3 float32 linear reflectance; sun / ambient: H×W float32 direct-sun
    and sky-light factors; sky: H×W bool; sky_index: flat indices of the sky pixels, with
    sky_height (0 at the horizon, 1 at the top) and cloud per sky pixel; fog: H×W float32
    aerial-perspective haze; artificial: H×W×3 float32 irradiance of lamps and headlights
    (before their on-switch); emitters: H×W×3 float32 lights switched on at night plus the glow
    of all emitters; signal: H×W×3 float32 always-on emitters (traffic lights).
    """

    label: np.ndarray
    label_ids: np.ndarray
    albedo: np.ndarray
    sun: np.ndarray
    ambient: np.ndarray
    sky: np.ndarray
    sky_index: np.ndarray
    sky_height: np.ndarray
    cloud: np.ndarray
    fog: np.ndarray
    artificial: np.ndarray
    emitters: np.ndarray
    signal: np.ndarray


@dataclass
class _Region:
    """A billboard's bounding box in pixels and its local metric coordinates."""

    rows: slice
    cols: slice
    xm: np.ndarray  # 1×w metres right of the object's centre
    ym: np.ndarray  # h×1 metres above the ground
    pixel: float  # metres per pixel at the object's depth


def _rect(r: _Region, x0: float, x1: float, y0: float, y1: float) -> np.ndarray:
    """Axis-aligned rectangle, at least one pixel wide so thin poles never vanish."""
    centre, half = (x0 + x1) / 2, max((x1 - x0) / 2, 0.55 * r.pixel)
    return (np.abs(r.xm - centre) < half) & (r.ym >= y0) & (r.ym < y1)


def _ellipse(r: _Region, cx: float, cy: float, rx: float, ry: float) -> np.ndarray:
    rx, ry = max(rx, 0.55 * r.pixel), max(ry, 0.55 * r.pixel)
    return ((r.xm - cx) / rx) ** 2 + ((r.ym - cy) / ry) ** 2 < 1.0


class _Painter:
    """Holds the per-pixel buffers while a scene is drawn back to front."""

    def __init__(self, layout: StreetLayout, city: CityStyle, size: tuple[int, int], view: View,
                 rng: np.random.Generator) -> None:
        self.layout, self.city, self.rng = layout, city, rng
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
        light = city.illumination
        self.window_light = np.asarray(light.window_colour, np.float32) * light.window_emission
        self.lamp_light = np.asarray(light.lamp_colour, np.float32) * light.lamp_emission
        self.head_light = np.asarray(light.headlight_colour, np.float32) * light.headlight_emission
        self.tail_light = np.asarray(light.taillight_colour, np.float32) * light.taillight_emission
        self.lamps: list[tuple[float, float, float]] = []  # world positions of street-lamp heads
        self.oncoming: list[tuple[float, float]] = []  # (x, z) of cars with headlights toward us

    # -- helpers ---------------------------------------------------------------------------

    def _sun_building_height(self, z: np.ndarray) -> np.ndarray:
        return self.layout.facades[(self.layout.sun_side + 1) // 2].building_height_at(z)

    def _ground_lit(self, x: np.ndarray, z: np.ndarray) -> np.ndarray:
        """1 where the ground at world (x, z) sees the sun, 0 in the shadow of the sun-side
        facades (their shadow reaches height / tan(elevation) · lateral share across)."""
        layout = self.layout
        sun_line = layout.facades[(layout.sun_side + 1) // 2].x
        distance = layout.sun_side * (sun_line - x)
        reach = self._sun_building_height(z) * SHADOW_LATERAL / layout.sun_tan
        return ((distance >= reach) | (distance < 0)).astype(np.float32)

    def _column_plane(self, side: int, x: float) -> tuple[np.ndarray, np.ndarray]:
        """For the vertical plane X = x: camera depth of each column's ray hit (W,), and which
        columns hit it in front of the camera."""
        du = self.u - self.cx
        xc = x - self.x0
        valid = (du * side > 0) & (xc * side > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            zc = np.where(valid, self.f * xc / np.where(valid, du, 1.0), np.inf)
        return zc.astype(np.float32), valid & (zc > NEAR_CLIP)

    def _rows_between(self, zc: np.ndarray, y_low: np.ndarray | float, y_high: np.ndarray | float) -> np.ndarray:
        """H×W mask of pixels whose ray at camera depth zc (per column) lies between two heights."""
        with np.errstate(divide="ignore", invalid="ignore"):
            v_top = self.vh + self.f * (self.hc - y_high) / zc
            v_bottom = self.vh + self.f * (self.hc - y_low) / zc
        v = self.v[:, None]
        return (v >= v_top[None, :]) & (v < v_bottom[None, :])

    def _write(self, index: np.ndarray, label, albedo, X, Y, Z, normal: int, sun, ambient: float,
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

    def _set(self, mask: np.ndarray, label, albedo: np.ndarray, X, Y, Z, normal: int,
             sun, ambient: float) -> None:
        """Write a surface where the H×W mask is True; array values broadcast to H×W (×3)."""
        index = np.flatnonzero(mask)
        if index.size == 0:
            return
        rows, cols = np.divmod(index, self.width)
        pick = lambda value: np.broadcast_to(value, mask.shape)[rows, cols] if np.ndim(value) else value  # noqa: E731
        label = pick(label)
        colour = albedo if np.ndim(albedo) == 1 else np.broadcast_to(albedo, mask.shape + (3,))[rows, cols]
        self._write(index, label, colour, pick(X), pick(Y), pick(Z), normal, pick(sun), ambient)

    # -- ground and sky --------------------------------------------------------------------

    def ground(self) -> None:
        layout = self.layout
        dv = self.v - self.vh
        first = int(np.searchsorted(dv, 0.5))  # rows below the horizon
        if first >= self.height:
            return
        # Depth is constant along a ground row: per-row quantities are (h, 1) columns.
        zc = np.minimum(self.f * self.hc / dv[first:], FAR_GROUND)[:, None]
        zw = zc + self.z0
        xw = (self.u[None, :] - self.cx) * zc / self.f + self.x0
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
        table = np.stack([layout.road_colour, layout.sidewalk_colour, layout.terrain_colour,
                          layout.kerb_colour, layout.marking_colour])
        fade = 1.0 / (1.0 + zc / GROUND_TEXTURE_FADE)
        texture = 1.0 + (GROUND_TEXTURE * fade) * value_noise(layout.noise_table, xw * 1.5, zw * 1.5)
        near = zc[:, 0] < SLAB_DISTANCE
        slab_rows = np.mod(zw, SLAB_SIZE) < SLAB_SIZE * SLAB_JOINT
        joints = slab_rows[near] | (np.mod(xw[near], SLAB_SIZE) < SLAB_SIZE * SLAB_JOINT)
        slabs = (kind[near] == GROUND_SIDEWALK) & joints
        texture[near] *= np.where(slabs, SLAB_JOINT_SHADE, 1.0)
        rows = slice(first, self.height)
        self.label[rows] = GROUND_LABELS[kind]
        self.albedo[rows] = table[kind] * texture[..., None]
        self.X[rows], self.Y[rows], self.Z[rows] = xw, 0.0, zw
        self.normal[rows] = N_UP
        self.sun[rows] = self._ground_lit(xw, zw)
        self.ambient[rows] = GROUND_AMBIENT

    def skyline(self) -> None:
        """Distant blocks at the end of the street, anchored to the camera (they are far)."""
        layout = self.layout
        x_far = (self.u - self.cx) * SKYLINE_DISTANCE / self.f
        block = np.searchsorted(layout.skyline_edges, x_far)
        height = layout.skyline_height[block].copy()
        trees = layout.skyline_kind[block] == SKYLINE_TREES
        # Tree blocks get rounded tops: a half-ellipse across each block.
        edges = np.concatenate([[x_far[0] - 1.0], layout.skyline_edges, [x_far[-1] + 1.0]])
        left, right = edges[block], edges[block + 1]
        across = np.clip((x_far - left) / np.maximum(right - left, 1e-3), 0, 1)
        height = np.where(trees, height * 0.5 * np.sqrt(np.maximum(1 - (2 * across - 1) ** 2, 0)) + 3.0, height)
        zc = np.full(self.width, SKYLINE_DISTANCE, dtype=np.float32)
        mask = self._rows_between(zc, 0.0, height) & (self.Z > SKYLINE_DISTANCE + self.z0)
        label = np.where(trees, ID["vegetation"], ID["building"]).astype(np.uint8)[None, :]
        self._set(mask, label, layout.skyline_colour[block][None], (x_far + self.x0)[None, :], 0.0,
                  SKYLINE_DISTANCE + self.z0, N_CAMERA, END_WALL_SUN, FACADE_AMBIENT)

    # -- facades ---------------------------------------------------------------------------

    def facades(self) -> None:
        for run in self.layout.facades:
            self._end_walls(run)
            self._facade(run)

    def _end_walls(self, run) -> None:
        """Side walls facing the camera at the far end of gaps and side streets."""
        zc_plane, valid = self._column_plane(run.side, run.x)
        zw = zc_plane + self.z0
        idx = run.index(zw)
        nxt = np.minimum(idx + 1, len(run.z1) - 1)
        open_gap = valid & (run.kind[idx] != FACADE_BUILDING) & (zw >= run.z0[idx]) & (zw < run.z1[idx])
        open_gap &= (run.kind[nxt] == FACADE_BUILDING) & (nxt > idx)
        if not open_gap.any():
            return
        zc_end = np.where(open_gap, run.z1[idx] - self.z0, FAR_GROUND).astype(np.float32)
        x_hit = (self.u - self.cx) * zc_end / self.f + self.x0
        open_gap &= run.side * (x_hit - run.x) < END_WALL_DEPTH
        mask = self._rows_between(np.where(open_gap, zc_end, np.inf), 0.0, run.height[nxt]) & open_gap[None, :]
        y = self.hc - (self.v[:, None] - self.vh) * zc_end[None, :] / self.f
        albedo = run.colour[nxt][None, :, :] * 0.9
        self._set(mask, ID["building"], albedo, x_hit[None, :], y, (zc_end + self.z0)[None, :], N_CAMERA,
                  END_WALL_SUN, FACADE_AMBIENT)

    def _facade(self, run) -> None:
        layout = self.layout
        zc, valid = self._column_plane(run.side, run.x)
        zw = zc + self.z0
        idx = run.index(zw)
        building = valid & (run.kind[idx] == FACADE_BUILDING) & (zw >= run.z0[idx]) & (zw < run.z1[idx])
        if not building.any():
            return
        mask = self._rows_between(np.where(building, zc, np.inf), 0.0, run.height[idx]) & building[None, :]
        rows, cols = np.nonzero(mask)
        i = idx[cols]
        z = zw[cols]
        y = self.hc - (self.v[rows] - self.vh) * zc[cols] / self.f
        along = z - run.z0[i]
        length = run.z1[i] - run.z0[i]
        floor_h = run.floor_height[i]
        ground_floor = floor_h * GROUND_FLOOR
        spacing = run.window_spacing[i]
        column = np.floor(along / spacing)
        across = along / spacing - column
        storey = np.floor((y - ground_floor) / floor_h)
        up = (y - ground_floor) / floor_h - storey
        inside = (along > 1.0) & (along < length - 1.0)
        window = inside & (np.abs(across - 0.5) < run.window_width[i] / 2) & (up > WINDOW_SILL) \
            & (up < WINDOW_SILL + run.window_height[i]) & (y > ground_floor) & (y < run.height[i] - CORNICE[0])
        shop = inside & run.shop[i] & (y > PLINTH) & (y < ground_floor - 0.5) & (np.abs(across - 0.5) < 0.42)
        cornice = (y > run.height[i] - CORNICE[0]) & (y < run.height[i] - CORNICE[1])
        texture = 1.0 + FACADE_TEXTURE * value_noise(layout.noise_table, z * 0.6 + 17 * run.side, y * 0.6)
        shade = np.where(cornice, 0.8, np.where(y < PLINTH, 0.7, 1.0)) * texture
        albedo = run.colour[i] * shade[:, None]
        # Per-window random draws (pane tint, lit or not, brightness) only on glass pixels.
        glass = np.flatnonzero(window | shop)
        key = i[glass].astype(np.int64) * 2 + (run.side > 0)
        column, storey = column[glass], storey[glass]
        pane = hash01(layout.texture_seed, key, column, storey)
        glass_colour = srgb_to_linear(np.asarray(self.city.palette.window, np.float32))
        albedo[glass] = glass_colour * (GLASS_SHADE[0] + (GLASS_SHADE[1] - GLASS_SHADE[0]) * pane[:, None])
        light = self.city.illumination
        lit = window[glass] & (hash01(layout.texture_seed + 1, key, column, storey) < light.window_lit_fraction)
        shop_lit = shop[glass] & (hash01(layout.texture_seed + 2, key) < SHOP_LIT_PROBABILITY)
        brightness = 0.5 + hash01(layout.texture_seed + 3, key, column, storey)
        window_glow = np.where(lit, brightness, np.where(shop_lit, SHOP_EMISSION, 0.0)).astype(np.float32)
        emission = np.zeros((rows.size, 3), np.float32)
        emission[glass] = window_glow[:, None] * self.window_light
        # The facade across the street from the sun faces it, above the shadow of the sun side.
        if run.side == -self.layout.sun_side:
            street = abs(self.layout.facades[0].x - self.layout.facades[1].x)
            shadow_top = self._sun_building_height(z) - street * layout.sun_tan / SHADOW_LATERAL
            sun = np.where(y > shadow_top, FACADE_SUN, 0.0).astype(np.float32)
        else:
            sun = np.zeros(rows.size, np.float32)
        self._write(rows * self.width + cols, ID["building"], albedo, run.x, y, z,
                    N_POS_X if run.side < 0 else N_NEG_X, sun, FACADE_AMBIENT, emission, 0.0)

    def planes(self) -> None:
        """Fences, walls and hedges, outermost first (inner ones occlude)."""
        for plane in sorted(self.layout.planes, key=lambda p: -abs(p.x)):
            zc, valid = self._column_plane(plane.side, plane.x)
            zw = np.where(valid, zc + self.z0, 0.0)
            valid &= (zw >= plane.z0) & (zw < plane.z1)
            if not valid.any():
                continue
            top = np.full(self.width, plane.height, np.float32)
            if plane.kind == "hedge":
                top = top * (1.0 + 0.12 * value_noise(self.layout.noise_table, zw * 1.3, 5.0 + plane.side))
            mask = self._rows_between(np.where(valid, zc, np.inf), 0.0, top) & valid[None, :]
            index = np.flatnonzero(mask)
            rows, cols = np.divmod(index, self.width)
            height = self.hc - (self.v[rows] - self.vh) * zc[cols] / self.f
            if plane.kind == "fence":
                # Bars every 0.2 m plus two rails; the gaps show what is behind.
                bars = np.mod(zw[cols], 0.2) < 0.08
                rails = (height > plane.height - 0.08) | ((height > 0.12) & (height < 0.2))
                keep = bars | rails | (zc[cols] > 30.0)  # far fences blur into a surface
                index, cols, height = index[keep], cols[keep], height[keep]
            if index.size == 0:
                continue
            label = {"fence": ID["fence"], "wall": ID["wall"], "hedge": ID["vegetation"]}[plane.kind]
            shade = 1.0 + 0.15 * value_noise(self.layout.noise_table, zw[cols] * 2.0, height * 2.0)
            sun = PLANE_SUN if plane.side == -self.layout.sun_side else 0.0
            self._write(index, label, plane.colour * shade[:, None], plane.x, height, zw[cols],
                        N_POS_X if plane.side < 0 else N_NEG_X, sun, OBJECT_AMBIENT)

    # -- billboards ------------------------------------------------------------------------

    def _region(self, x: float, z: float, x_lo: float, x_hi: float, top: float) -> _Region | None:
        zc, xc = z - self.z0, x - self.x0
        if zc < NEAR_CLIP:
            return None
        u0 = self.cx + self.f * (xc + x_lo) / zc
        u1 = self.cx + self.f * (xc + x_hi) / zc
        v0 = self.vh + self.f * (self.hc - top) / zc
        v1 = self.vh + self.f * self.hc / zc
        j0, j1 = max(int(np.floor(u0)) - 1, 0), min(int(np.ceil(u1)) + 1, self.width)
        i0, i1 = max(int(np.floor(v0)) - 1, 0), min(int(np.ceil(v1)) + 1, self.height)
        if j0 >= j1 or i0 >= i1:
            return None
        xm = ((self.u[j0:j1] - self.cx) * zc / self.f - xc)[None, :]
        ym = (self.hc - (self.v[i0:i1] - self.vh) * zc / self.f)[:, None]
        return _Region(slice(i0, i1), slice(j0, j1), xm, ym, zc / self.f)

    def _paint(self, r: _Region, part: np.ndarray, labels, colours, x: float, z: float,
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
        lit = float(self._ground_lit(np.float32(x), np.float32(z)))
        index = (rows + r.rows.start) * self.width + cols + r.cols.start
        self._write(
            index, np.asarray(labels, np.uint8)[p], albedo, r.xm[0, cols] + x, r.ym[rows, 0], z, N_CAMERA,
            OBJECT_SUN * lit, OBJECT_AMBIENT,
            0.0 if emission is None else np.asarray(emission, np.float32)[p],
            0.0 if signal is None else np.asarray(signal, np.float32)[p],
        )

    def tree(self, t: Prop) -> None:
        radius, top = t.size, t.height
        r = self._region(t.x, t.z, -radius * 1.3, radius * 1.3, top * 1.05)
        if r is None:
            return
        centre = top - radius * 1.1
        bumps = value_noise(self.layout.noise_table, r.xm * 1.6 + 7 * t.variant + t.z, r.ym * 1.6)
        # Noise only roughens the outline (a clipped bump amplitude cannot punch holes inside).
        outline = 1.0 + 0.25 * np.clip(bumps, -1.5, 1.5)
        crown = ((r.xm / radius) ** 2 + ((r.ym - centre) / (radius * 1.1)) ** 2) < outline
        part = np.where(crown, 2, _rect(r, -0.14, 0.14, 0.0, centre) * 1)
        trunk_colour = srgb_to_linear(np.asarray(self.city.palette.trunk, np.float32))
        shade = 1.0 + 0.3 * bumps + 0.25 * np.clip((r.ym - centre) / radius, -1, 1)
        self._paint(r, part, [0, ID["vegetation"], ID["vegetation"]], [t.colour, trunk_colour, t.colour],
                    t.x, t.z, shade=np.where(crown, shade, 1.0))

    def pole(self, p: Prop) -> None:
        r = self._region(p.x, p.z, -0.1, 0.1, p.height)
        if r is not None:
            self._paint(r, _rect(r, -0.07, 0.07, 0.0, p.height) * 1, [0, ID["pole"]], [p.colour, p.colour], p.x, p.z)

    def lamp(self, p: Prop) -> None:
        toward = -p.side  # the arm reaches over the road
        arm, h = p.size, p.height
        lo, hi = sorted((0.0, toward * (arm + 0.3)))
        r = self._region(p.x, p.z, lo - 0.2, hi + 0.2, h + 0.1)
        self.lamps.append((p.x + toward * arm, h - 0.3, p.z))
        if r is None:
            return
        reach = r.xm * toward
        head = (np.abs(reach - arm) < 0.3) & (r.ym > h - 0.3) & (r.ym < h)
        lens = head & (r.ym < h - 0.18)
        part = _rect(r, -0.08, 0.08, 0.0, h) | ((reach > 0) & (reach < arm) & (r.ym > h - 0.1) & (r.ym < h)) | head
        part = np.where(lens, 2, part * 1)
        self._paint(r, part, [0, ID["pole"], ID["pole"]], [p.colour, p.colour, (0.8, 0.8, 0.75)], p.x, p.z,
                    emission=[(0, 0, 0), (0, 0, 0), self.lamp_light])

    def traffic_light(self, p: Prop) -> None:
        h = p.height
        r = self._region(p.x, p.z, -0.25, 0.25, h + 0.9)
        if r is None:
            return
        housing = _rect(r, -0.17, 0.17, h, h + 0.85)
        part = np.where(housing, 2, _rect(r, -0.06, 0.06, 0.0, h) * 1)
        for k, centre in enumerate((h + 0.7, h + 0.425, h + 0.15)):  # red, amber, green
            part = np.where(_ellipse(r, 0.0, centre, 0.09, 0.09) & housing, 3 + k, part)
        colours = [(0.3, 0.02, 0.02), (0.3, 0.2, 0.02), (0.02, 0.25, 0.08)]
        signals = [(1.0, 0.08, 0.03), (1.0, 0.6, 0.05), (0.1, 1.0, 0.45)]
        active = [np.asarray(s, np.float32) * self.city.illumination.signal_emission * (k == p.variant)
                  for k, s in enumerate(signals)]
        housing_colour = srgb_to_linear(np.asarray(self.city.palette.traffic_light_housing, np.float32))
        self._paint(r, part, [0, ID["pole"]] + [ID["traffic light"]] * 4,
                    [p.colour, p.colour, housing_colour] + colours, p.x, p.z,
                    signal=[(0, 0, 0)] * 3 + active)

    def sign(self, p: Prop) -> None:
        size, h = p.size, p.height
        r = self._region(p.x, p.z, -size / 2 - 0.1, size / 2 + 0.1, h + size)
        if r is None:
            return
        palette = self.city.palette
        centre = h + size / 2
        if p.variant == 0:  # round: red ring, white face
            plate = _ellipse(r, 0, centre, size / 2, size / 2)
            inner = _ellipse(r, 0, centre, size * 0.36, size * 0.36)
            part = np.where(inner, 3, np.where(plate, 2, 0))
        elif p.variant == 1:  # blue square with a white bar
            plate = _rect(r, -size / 2, size / 2, h, h + size)
            inner = _rect(r, -size * 0.3, size * 0.3, centre - size * 0.08, centre + size * 0.08)
            part = np.where(inner, 3, np.where(plate, 4, 0))
        else:  # triangle: red rim, white face
            rise = (r.ym - h) / size
            plate = (rise >= 0) & (np.abs(r.xm) < (1 - rise) * size / 2)
            inner = (rise >= 0.15) & (np.abs(r.xm) < (0.85 - rise) * size / 2 * 0.8)
            part = np.where(inner, 3, np.where(plate, 2, 0))
        part = np.where(part > 0, part, _rect(r, -0.045, 0.045, 0.0, h + size / 2) * 1)
        colours = [p.colour, p.colour, palette.sign_red, palette.sign_white, palette.sign_blue]
        colours = [p.colour, p.colour] + [srgb_to_linear(np.asarray(c, np.float32)) for c in colours[2:]]
        self._paint(r, part, [0, ID["pole"]] + [ID["traffic sign"]] * 3, colours, p.x, p.z)

    def car(self, c: Car) -> None:
        half, h = c.width / 2, c.height
        r = self._region(c.x, c.z, -half, half, h)
        if r is None:
            return
        y = r.ym / h
        cabin_half = half * (0.88 - 0.2 * np.clip((y - 0.55) / 0.45, 0, 1))
        body = (np.abs(r.xm) < half) & (y >= 0.16) & (y < 0.56)
        cabin = (np.abs(r.xm) < cabin_half) & (y >= 0.56) & (y < 1.0)
        glass = (np.abs(r.xm) < cabin_half - 0.09) & (y >= 0.62) & (y < 0.94)
        tyres = (np.abs(r.xm) > half - 0.42) & (np.abs(r.xm) < half - 0.04) & (y < 0.22)
        under = (np.abs(r.xm) < half - 0.3) & (y >= 0.08) & (y < 0.18)
        lights = (np.abs(r.xm) > half - 0.34) & (np.abs(r.xm) < half - 0.06) & (y > 0.38) & (y < 0.49)
        plate = (np.abs(r.xm) < 0.25) & (y > 0.22) & (y < 0.31)
        bumper = body & (y < 0.24)
        part = np.zeros(np.broadcast_shapes(r.xm.shape, r.ym.shape), np.int8)
        for index, mask in enumerate((body | cabin, bumper, glass, tyres | under, plate, lights), start=1):
            part[mask] = index
        lights_on = not c.parked
        light = (self.head_light if c.facing_camera else self.tail_light) if lights_on else np.zeros(3, np.float32)
        lamp_albedo = (0.85, 0.85, 0.8) if c.facing_camera else (0.55, 0.04, 0.03)
        # Parts: body/cabin, bumper, glass, tyres/underbody, plate, lights.
        colours = [c.colour, c.colour, (0.03, 0.03, 0.03), (0.05, 0.06, 0.07), (0.02, 0.02, 0.02),
                   (0.8, 0.8, 0.78), lamp_albedo]
        emission = [(0, 0, 0)] * 6 + [light]
        # A vertical gradient: roofs catch more sky light than the lower body.
        shade = 0.75 + 0.35 * np.clip(y, 0, 1)
        self._paint(r, part, [0] + [ID["car"]] * 6, colours, c.x, c.z, emission=emission, shade=shade)
        if c.facing_camera and lights_on:
            self.oncoming.append((c.x, c.z))

    def person(self, p: Person) -> None:
        h = p.height
        r = self._region(p.x, p.z, -0.25 * h, 0.25 * h, h)
        if r is None:
            return
        y = r.ym / h
        hip = 0.5
        spread = p.stride * np.clip((hip - y) / hip, 0, 1) / 2
        legs = ((np.abs(r.xm - 0.045 * h - spread) < 0.045 * h) | (np.abs(r.xm + 0.045 * h + spread) < 0.045 * h))
        legs &= (y >= 0) & (y < hip + 0.02)
        torso = (np.abs(r.xm) < 0.12 * h * (0.85 + 0.15 * np.clip((y - hip) / 0.33, 0, 1))) & (y >= hip) & (y < 0.83)
        arms = (np.abs(r.xm) >= 0.11 * h) & (np.abs(r.xm) < 0.16 * h) & (y >= 0.52) & (y < 0.81)
        neck = (np.abs(r.xm) < 0.03 * h) & (y >= 0.82) & (y < 0.87)
        head = _ellipse(r, 0.0, 0.925 * h, 0.06 * h, 0.075 * h)
        hair = head & (y > 0.95)
        part = np.zeros(np.broadcast_shapes(r.xm.shape, r.ym.shape), np.int8)
        for index, mask in enumerate((legs, torso | arms, neck | head, hair), start=1):
            part[mask] = index
        colours = [p.bottom, p.bottom, p.top, p.skin, (0.04, 0.03, 0.02)]  # parts: legs, torso, skin, hair
        self._paint(r, part, [0] + [ID["person"]] * 4, colours, p.x, p.z)

    def objects(self, traffic: Traffic) -> None:
        draw = {"tree": self.tree, "pole": self.pole, "lamp": self.lamp,
                "traffic_light": self.traffic_light, "sign": self.sign}
        items: list[tuple[float, object]] = [(p.z, (draw[p.kind], p)) for p in self.layout.props]
        items += [(c.z, (self.car, c)) for c in traffic.cars]
        items += [(p.z, (self.person, p)) for p in traffic.persons]
        for _, (function, item) in sorted(items, key=lambda entry: -entry[0]):
            function(item)

    def ego_hood(self) -> np.ndarray:
        """The recording car's hood at the bottom (Cityscapes; ignored in the labels)."""
        across = (self.u - self.width / 2) / (self.width / 2)
        top = self.height * (1 - HOOD_FRACTION * (1 - HOOD_CURVE * across**2))
        mask = self.v[:, None] >= top[None, :]
        colour = srgb_to_linear(np.asarray(self.city.palette.ego_hood, np.float32))
        shade = 1.0 + 0.6 * np.clip((self.v[:, None] - top[None, :]) / (self.height * HOOD_FRACTION), 0, 1)
        self._set(mask, IGNORE_INDEX, colour * shade[..., None], 0.0, 0.9, 1.0 + self.z0, N_UP, HOOD_SUN, 0.5)
        return mask

    # -- light -----------------------------------------------------------------------------

    def _box_slices(self, x0: float, x1: float, y_top: float, z0: float, z1: float) -> tuple[slice, slice] | None:
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

    def artificial_light(self) -> np.ndarray:
        """H×W×3 irradiance from street lamps and headlights (scaled by on(t) when rendered).

        Computed on every LIGHT_SUBSAMPLE-th pixel and upsampled: the light varies slowly,
        and this is the most expensive layer."""
        step = LIGHT_SUBSAMPLE
        light = self.city.illumination
        X, Y = self.X[::step, ::step], self.Y[::step, ::step]
        normal = self.normal[::step, ::step]
        Z = np.where(normal == N_NONE, FAR_GROUND, self.Z[::step, ::step])  # sky: far, normal 0
        normals = NORMALS[normal]
        irradiance = np.zeros(X.shape + (3,), np.float32)
        lamp_colour = np.asarray(light.lamp_colour, np.float32) * light.lamp_intensity
        for lx, ly, lz in self.lamps:
            reach = LAMP_REACH * ly
            box = self._box_slices(lx - reach, lx + reach, ly + 1.0, lz - reach, lz + reach)
            if box is None:
                continue
            sl = tuple(slice(b.start // step, -(-b.stop // step)) for b in box)
            dx, dy, dz = lx - X[sl], ly - Y[sl], lz - Z[sl]
            d2 = dx * dx + dy * dy + dz * dz + np.float32(LAMP_SOFTNESS**2)
            n = normals[sl]
            cosine = np.maximum(n[..., 0] * dx + n[..., 1] * dy + n[..., 2] * dz, 0.0) / np.sqrt(d2)
            irradiance[sl] += (cosine / d2)[..., None] * lamp_colour
        head_colour = np.asarray(light.headlight_colour, np.float32) * light.headlight_intensity
        beams = self._beam(X, Y, Z, self.x0, self.z0, +1.0)
        for cx, cz in self.oncoming:
            beams += ONCOMING_HEADLIGHT * self._beam(X, Y, Z, cx, cz, -1.0)
        irradiance += beams[..., None] * head_colour
        return upsample_bilinear(irradiance, (self.height, self.width))

    @staticmethod
    def _beam(X: np.ndarray, Y: np.ndarray, Z: np.ndarray, x: float, z: float, direction: float) -> np.ndarray:
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


def rasterize(layout: StreetLayout, traffic: Traffic, city: CityStyle, size: tuple[int, int],
              view: View, rng: np.random.Generator) -> SceneLayers:
    """Draw a scene into `SceneLayers` of `size` = (H, W); `rng` only adds albedo grain."""
    painter = _Painter(layout, city, size, view, rng)
    painter.ground()
    painter.skyline()
    painter.facades()
    painter.planes()
    painter.objects(traffic)
    hood = painter.ego_hood() if layout.ego_hood else np.zeros(size, bool)
    sky = painter.normal == N_NONE
    grain = 1.0 + GRAIN * rng.standard_normal(size, dtype=np.float32)
    albedo = np.clip(painter.albedo * grain[..., None], 0.0, 1.0)
    label_ids = train_ids_to_label_ids(painter.label)
    label_ids[hood] = EGO_VEHICLE_LABEL_ID
    sky_index = np.flatnonzero(sky)
    sky_rows, sky_cols = np.divmod(sky_index, size[1])
    sky_height = np.clip((painter.vh - painter.v[sky_rows]) / max(painter.vh, 1.0), 0.0, 1.0) ** SKY_CURVE
    cloud = value_noise(layout.noise_table, painter.v[sky_rows] / size[0] * CLOUD_SCALE[0] + 31.0,
                        painter.u[sky_cols] / size[1] * CLOUD_SCALE[1])
    distance = np.where(sky, 0.0, np.maximum(painter.Z - painter.z0, 0.0))
    fog = (1.0 - np.exp(-distance / city.illumination.fog_distance)).astype(np.float32)
    emitters = painter.emission + painter.signal
    halo = glow(emitters, GLOW_NEAR, GLOW_FAR)
    return SceneLayers(
        label=painter.label,
        label_ids=label_ids,
        albedo=albedo.astype(np.float32),
        sun=painter.sun,
        ambient=painter.ambient,
        sky=sky,
        sky_index=sky_index,
        sky_height=sky_height.astype(np.float32),
        cloud=cloud.astype(np.float32),
        fog=fog,
        artificial=painter.artificial_light(),
        emitters=(painter.emission + halo * np.float32(city.illumination.glow)).astype(np.float32),
        signal=painter.signal,
    )
