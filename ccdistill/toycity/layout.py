"""The parametric description of a ToyCity street: what a scene holds, in world coordinates.

World frame (metres): X to the right, Y up, Z forward along the street; the ground is Y = 0 and
the canonical camera sits at X = 0, Z = 0 at `camera_height`. Two parts are sampled apart so a
day/night pair can share one and re-sample the other (docs/DATA.md, Part 1):

- `StreetLayout` (static, sampled by `street.sample_layout`): road, sidewalks, kerbs, terrain,
  facades with windows, side streets, fences/walls/hedges, trees, poles, street lamps, traffic
  lights and signs, the distant skyline.
- `Traffic` (dynamic, sampled by `traffic.sample_traffic`): cars (moving or parked) and persons.

Nothing here touches pixels; `raster.py` turns a layout into image layers for a given `View`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# Facade run kinds.
FACADE_BUILDING, FACADE_GAP, FACADE_CROSSING = 0, 1, 2
# Distant skyline block kinds.
SKYLINE_BUILDING, SKYLINE_TREES = 0, 1

KERB_WIDTH = 0.22
PARKING_LANE_WIDTH = 2.3
LANE_DASH_PERIOD = 9.0  # metres between the starts of two dashes
LANE_DASH_DUTY = 0.4
SKYLINE_DISTANCE = 220.0  # metres to the distant blocks seen at the end of the street
SHADOW_LATERAL = 0.7  # share of the sun direction across the street (vs along it)


@dataclass(eq=False)
class FacadeRun:
    """Facades of one side of the street as consecutive runs along Z (arrays of length n)."""

    side: int  # -1 left, +1 right
    x: float  # the building line (metres)
    z0: np.ndarray
    z1: np.ndarray
    kind: np.ndarray  # FACADE_BUILDING | FACADE_GAP | FACADE_CROSSING
    height: np.ndarray
    colour: np.ndarray  # n×3 linear albedo
    floor_height: np.ndarray
    window_spacing: np.ndarray
    window_width: np.ndarray  # fraction of the spacing
    window_height: np.ndarray  # fraction of the floor height
    shop: np.ndarray  # bool: lit shop windows on the ground floor

    def index(self, z: np.ndarray) -> np.ndarray:
        """Run index of each Z (clipped to the last run)."""
        return np.minimum(np.searchsorted(self.z1, z, side="right"), len(self.z1) - 1)

    def building_height_at(self, z: np.ndarray) -> np.ndarray:
        """Facade height at each Z (0 in gaps, crossings and beyond the street)."""
        idx = self.index(z)
        inside = (z >= self.z0[idx]) & (z < self.z1[idx]) & (self.kind[idx] == FACADE_BUILDING)
        return np.where(inside, self.height[idx], 0.0)


@dataclass(eq=False)
class LinePlane:
    """A fence, wall or hedge: a vertical strip parallel to the street at lateral position x."""

    kind: str  # "fence" | "wall" | "hedge"
    side: int
    x: float
    z0: float
    z1: float
    height: float
    colour: np.ndarray


@dataclass(eq=False)
class Prop:
    """A static object standing at (x, z): tree, pole, lamp, traffic light or sign."""

    kind: str  # "tree" | "pole" | "lamp" | "traffic_light" | "sign"
    x: float
    z: float
    height: float
    side: int  # which sidewalk; lamps and traffic lights lean toward the road (-side)
    colour: np.ndarray  # main albedo (crown, pole, plate...)
    variant: int = 0  # sign shape / active signal / crown shape
    size: float = 1.0  # crown radius, lamp arm length, plate size


@dataclass(eq=False)
class StreetLayout:
    """The static part of a scene (see module docstring)."""

    focal: float  # focal length / image width
    horizon: float  # horizon row / image height
    camera_height: float
    road_left: float
    road_right: float
    lane_lines: tuple[float, ...]  # dashed lines between lanes
    oncoming_below: float  # lanes whose centre is left of this X carry oncoming traffic
    lane_centres: tuple[float, ...]
    parking: tuple[bool, bool]  # (left, right) kerb-side parking lane
    sidewalk: tuple[float, float]  # (left, right) widths
    terrain: tuple[float, float]  # (left, right) widths of grass strips (0 = none)
    facades: tuple[FacadeRun, FacadeRun]  # (left, right)
    crossings: tuple[tuple[float, float], ...]  # Z ranges of side streets
    planes: tuple[LinePlane, ...]
    props: tuple[Prop, ...]
    skyline_edges: np.ndarray  # X at SKYLINE_DISTANCE where blocks change (sorted)
    skyline_height: np.ndarray  # one more entry than edges
    skyline_kind: np.ndarray
    skyline_colour: np.ndarray  # per block, linear
    road_colour: np.ndarray
    marking_colour: np.ndarray
    sidewalk_colour: np.ndarray
    kerb_colour: np.ndarray
    terrain_colour: np.ndarray
    sun_side: int  # the sun stands above this side's facades
    sun_tan: float  # tan of the sun's elevation
    noise_table: np.ndarray  # street.NOISE_TABLE_SIZE² value noise for world-anchored textures
    ego_hood: bool
    texture_seed: int

    def sidewalk_outer(self, side: int) -> float:
        """X of the outer edge of a sidewalk (toward the buildings)."""
        if side < 0:
            return self.road_left - self.sidewalk[0]
        return self.road_right + self.sidewalk[1]

    def kerb_x(self, side: int) -> float:
        return self.road_left if side < 0 else self.road_right

    def in_crossing(self, z: np.ndarray | float) -> np.ndarray:
        z = np.asarray(z)
        inside = np.zeros(z.shape, dtype=bool)
        for z0, z1 in self.crossings:
            inside |= (z >= z0) & (z < z1)
        return inside

    def sun_facade_height(self, z: np.ndarray) -> np.ndarray:
        """Height of the sun-side facades at each Z: what casts the street's shadows."""
        return self.facades[(self.sun_side + 1) // 2].building_height_at(z)

    def ground_lit(self, x: np.ndarray, z: np.ndarray) -> np.ndarray:
        """1 where the ground at world (x, z) sees the sun, 0 in the shadow of the sun-side
        facades (their shadow reaches height / tan(elevation) · lateral share across)."""
        sun_line = self.facades[(self.sun_side + 1) // 2].x
        distance = self.sun_side * (sun_line - x)
        reach = self.sun_facade_height(z) * SHADOW_LATERAL / self.sun_tan
        return ((distance >= reach) | (distance < 0)).astype(np.float32)


@dataclass(eq=False)
class Car:
    x: float
    z: float
    width: float
    height: float
    colour: np.ndarray
    facing_camera: bool  # front visible (headlights) vs rear visible (tail lights)
    parked: bool


@dataclass(eq=False)
class Person:
    x: float
    z: float
    height: float
    top: np.ndarray
    bottom: np.ndarray
    skin: np.ndarray
    stride: float  # leg spread in metres at the feet (walking phase)


@dataclass(eq=False)
class Traffic:
    """The dynamic part of a scene: re-sampled for the night half of a target pair."""

    cars: tuple[Car, ...] = field(default_factory=tuple)
    persons: tuple[Person, ...] = field(default_factory=tuple)
