"""The parametric description of a ToyCity street, sampled from a `CityStyle` and a generator.

World frame (metres): X to the right, Y up, Z forward along the street; the ground is Y = 0 and
the canonical camera sits at X = 0, Z = 0 at `camera_height`. Two parts are sampled apart so a
day/night pair can share one and re-sample the other (SPEC 5.2):

- `StreetLayout` (static): road, sidewalks, kerbs, terrain, facades with windows, side streets,
  fences/walls/hedges, trees, poles, street lamps, traffic lights and signs, the distant skyline.
- `Traffic` (dynamic): cars (moving or parked) and persons.

Nothing here touches pixels; `raster.py` turns a layout into image layers for a given `View`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ccdistill.srgb import srgb_to_linear
from ccdistill.toycity.style import CityStyle, Range

# Facade run kinds.
FACADE_BUILDING, FACADE_GAP, FACADE_CROSSING = 0, 1, 2
# Distant skyline block kinds.
SKYLINE_BUILDING, SKYLINE_TREES = 0, 1

CROSSING_WIDTH: Range = (9.0, 14.0)
CROSSING_DISTANCE: Range = (18.0, 60.0)
KERB_WIDTH = 0.22
PARKING_LANE_WIDTH = 2.3
LANE_DASH_PERIOD = 9.0  # metres between the starts of two dashes
LANE_DASH_DUTY = 0.4
SKYLINE_DISTANCE = 220.0  # metres to the distant blocks seen at the end of the street
SKYLINE_BLOCK_WIDTH: Range = (12.0, 45.0)
SKYLINE_HEIGHT: Range = (4.0, 40.0)
SKYLINE_TREE_PROBABILITY = 0.3
PROP_MIN_GAP = 1.6  # metres between two kerb-side props on one side
NOISE_TABLE_SIZE = 64  # lattice of the world-anchored value noise (textures)
SHOP_PROBABILITY = 0.45  # chance that a building has lit shop windows on its ground floor
TREE_HEIGHT: Range = (5.0, 9.0)
FIRST_TREE = 7.0  # metres; nearer crowns would fill the frame
POLE_HEIGHT: Range = (3.0, 6.0)
SIGN_HEIGHT: Range = (2.0, 2.8)
TRAFFIC_LIGHT_HEIGHT: Range = (2.8, 3.6)
FENCE_HEIGHT: Range = (0.9, 1.6)
WALL_HEIGHT: Range = (0.7, 1.8)
HEDGE_HEIGHT: Range = (0.8, 1.9)
PERSON_HEIGHT: Range = (1.55, 1.92)
CAR_WIDTH: Range = (1.7, 1.95)
CAR_HEIGHT: Range = (1.4, 1.65)
CAR_MIN_GAP = 7.5  # metres between two cars in one lane
NEAREST_OBJECT = 4.0  # closer objects would fill the frame
SHADOW_LATERAL = 0.7  # share of the sun direction across the street (vs along it)


def _uniform(rng: np.random.Generator, bounds: Range) -> float:
    return float(rng.uniform(bounds[0], bounds[1]))


def _integers(rng: np.random.Generator, bounds: tuple[int, int]) -> int:
    return int(rng.integers(bounds[0], bounds[1] + 1))


def _colour(rng: np.random.Generator, colours, jitter: float = 0.0) -> np.ndarray:
    """One palette colour as linear albedo, with a multiplicative per-object variation."""
    colour = np.asarray(colours[int(rng.integers(len(colours)))], dtype=np.float32)
    colour = np.clip(colour * (1.0 + jitter * rng.standard_normal()), 0.0, 1.0)
    return srgb_to_linear(colour).astype(np.float32)


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
    noise_table: np.ndarray  # NOISE_TABLE_SIZE² value noise for world-anchored textures
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


# ---------------------------------------------------------------------------------------------
# Static layout


def _sample_crossings(rng: np.random.Generator, city: CityStyle) -> tuple[tuple[float, float], ...]:
    if rng.random() >= city.layout.crossing_probability:
        return ()
    z0 = _uniform(rng, CROSSING_DISTANCE)
    return ((z0, z0 + _uniform(rng, CROSSING_WIDTH)),)


def _sample_facades(rng: np.random.Generator, city: CityStyle, side: int, x: float, crossings) -> FacadeRun:
    prior, palette = city.layout, city.palette
    runs: list[dict] = []
    z = -10.0  # start behind the camera so the first facade reaches the image edge
    while z < prior.street_length:
        crossing = next(((c0, c1) for c0, c1 in crossings if c0 <= z + 1.0 and z < c1), None)
        if crossing is not None:
            runs.append({"z0": z, "z1": crossing[1], "kind": FACADE_CROSSING})
            z = crossing[1]
            continue
        length = _uniform(rng, prior.building_length)
        # A run never extends into a side street.
        nxt = min((c0 for c0, _ in crossings if c0 > z), default=np.inf)
        z1 = min(z + length, nxt)
        gap = rng.random() < prior.building_gap_probability
        runs.append({"z0": z, "z1": z1, "kind": FACADE_GAP if gap else FACADE_BUILDING})
        z = z1
    n = len(runs)
    return FacadeRun(
        side=side,
        x=x,
        z0=np.array([r["z0"] for r in runs], dtype=np.float32),
        z1=np.array([r["z1"] for r in runs], dtype=np.float32),
        kind=np.array([r["kind"] for r in runs], dtype=np.int8),
        height=rng.uniform(*prior.building_height, size=n).astype(np.float32),
        colour=np.stack([_colour(rng, palette.buildings, 0.06) for _ in range(n)]),
        floor_height=rng.uniform(*prior.floor_height, size=n).astype(np.float32),
        window_spacing=rng.uniform(*prior.window_spacing, size=n).astype(np.float32),
        window_width=rng.uniform(0.35, 0.6, size=n).astype(np.float32),
        window_height=rng.uniform(0.4, 0.6, size=n).astype(np.float32),
        shop=rng.random(n) < SHOP_PROBABILITY,
    )


def _sample_planes(rng, city: CityStyle, side: int, layout_x: dict) -> list[LinePlane]:
    """Fences, walls and hedges along one side; on the terrain strip's outer edge if there is
    one (trees on the grass stand in front), else at the sidewalk's outer edge."""
    prior, palette = city.layout, city.palette
    planes = []
    x = layout_x["building"] - side * 0.3 if layout_x["terrain"] > 0 else layout_x["sidewalk_outer"]
    z = _uniform(rng, (2.0, 20.0))
    while z < prior.street_length * 0.5:
        length = _uniform(rng, (8.0, 35.0))
        roll = rng.random()
        kinds = (
            ("fence", prior.fence_probability, FENCE_HEIGHT, palette.fence, 0.05),
            ("wall", prior.wall_probability, WALL_HEIGHT, palette.wall, 0.05),
            ("hedge", prior.hedge_probability, HEDGE_HEIGHT, palette.vegetation, 0.1),
        )
        for kind, probability, heights, colours, jitter in kinds:
            if roll < probability:
                planes.append(LinePlane(kind, side, x, z, z + length, _uniform(rng, heights),
                                        _colour(rng, colours, jitter)))
                break
            roll -= probability
        z += length + _uniform(rng, (5.0, 30.0))
    return planes


class _KerbSlots:
    """Keeps kerb-side props on one side from overlapping."""

    def __init__(self) -> None:
        self.used: dict[int, list[float]] = {-1: [], 1: []}

    def take(self, side: int, z: float) -> bool:
        if any(abs(z - other) < PROP_MIN_GAP for other in self.used[side]):
            return False
        self.used[side].append(z)
        return True


def _sample_props(rng, city: CityStyle, geometry: dict, crossings) -> list[Prop]:
    prior, palette = city.layout, city.palette
    props: list[Prop] = []
    slots = _KerbSlots()
    pole_colour = srgb_to_linear(np.asarray(palette.pole, dtype=np.float32))

    def free(z: float) -> bool:
        return not any(c0 - 1.0 <= z < c1 + 1.0 for c0, c1 in crossings)

    for side in (-1, 1):
        kerb = geometry["kerb"][side]
        if rng.random() < prior.tree_probability:
            terrain = geometry["terrain"][side]
            # Trees stand on the grass strip when there is one, else in pits by the kerb.
            x = geometry["sidewalk_outer"][side] + side * terrain / 2 if terrain > 0 else kerb + side * 0.9
            z = _uniform(rng, (FIRST_TREE, FIRST_TREE + 8.0))
            while z < prior.street_length * 0.6:
                if free(z) and slots.take(side, z):
                    props.append(Prop("tree", x, z, _uniform(rng, TREE_HEIGHT), side,
                                      _colour(rng, palette.vegetation, 0.12), int(rng.integers(3)),
                                      _uniform(rng, (1.4, 2.6))))
                z += _uniform(rng, prior.tree_spacing)
        z = _uniform(rng, (5.0, 20.0))
        while z < prior.street_length * 0.8:
            if free(z) and slots.take(side, z):
                props.append(Prop("lamp", kerb + side * 0.45, z, _uniform(rng, prior.lamp_height), side,
                                  pole_colour, 0, _uniform(rng, (1.2, 2.2))))
            z += _uniform(rng, prior.lamp_spacing)
    for _ in range(_integers(rng, prior.poles)):
        side, z = int(rng.choice((-1, 1))), _uniform(rng, (6.0, 70.0))
        if free(z) and slots.take(side, z):
            props.append(Prop("pole", geometry["kerb"][side] + side * 0.35, z, _uniform(rng, POLE_HEIGHT), side,
                              pole_colour))
    for _ in range(_integers(rng, prior.signs)):
        side, z = int(rng.choice((-1, 1))), _uniform(rng, (6.0, 60.0))
        if free(z) and slots.take(side, z):
            props.append(Prop("sign", geometry["kerb"][side] + side * 0.4, z, _uniform(rng, SIGN_HEIGHT), side,
                              pole_colour, int(rng.integers(3)), _uniform(rng, (0.55, 0.8))))
    if rng.random() < prior.traffic_light_probability:
        # At the side street if there is one (before it, facing the camera), else mid-block.
        z = crossings[0][0] - 1.5 if crossings else _uniform(rng, (15.0, 50.0))
        for side in (-1, 1):
            if slots.take(side, z) or crossings:
                props.append(Prop("traffic_light", geometry["kerb"][side] + side * 0.5, z,
                                  _uniform(rng, TRAFFIC_LIGHT_HEIGHT), side, pole_colour, int(rng.integers(3))))
    return props


def _sample_skyline(rng, city: CityStyle) -> tuple[np.ndarray, ...]:
    half_width = SKYLINE_DISTANCE * 1.2  # covers the widest field of view
    edges = [-half_width]
    while edges[-1] < half_width:
        edges.append(edges[-1] + _uniform(rng, SKYLINE_BLOCK_WIDTH))
    n = len(edges) + 1
    kind = (rng.random(n) < SKYLINE_TREE_PROBABILITY).astype(np.int8)
    colour = np.stack([
        _colour(rng, city.palette.vegetation, 0.1) if k == SKYLINE_TREES else _colour(rng, city.palette.buildings, 0.1)
        for k in kind
    ])
    height = rng.uniform(*SKYLINE_HEIGHT, size=n).astype(np.float32)
    return np.asarray(edges, dtype=np.float32), height, kind, colour


def sample_layout(rng: np.random.Generator, city: CityStyle) -> StreetLayout:
    """Sample the static street (see `StreetLayout`) from the city's priors."""
    prior, palette, light = city.layout, city.palette, city.illumination
    lanes = _integers(rng, prior.lanes)
    lane_width = _uniform(rng, prior.lane_width)
    parking = (bool(rng.random() < prior.parked_car_probability), bool(rng.random() < prior.parked_car_probability))
    carriageway = lanes * lane_width
    # The camera drives in one lane: the road's left edge is placed relative to it.
    ego_fraction = _uniform(rng, prior.ego_lane_fraction)
    ego_lane = min(int(ego_fraction * lanes), lanes - 1)
    lane_left = -(ego_lane + 0.5) * lane_width
    road_left = lane_left - (PARKING_LANE_WIDTH if parking[0] else 0.0)
    road_right = lane_left + carriageway + (PARKING_LANE_WIDTH if parking[1] else 0.0)
    lane_lines = tuple(lane_left + k * lane_width for k in range(1, lanes))
    lane_centres = tuple(lane_left + (k + 0.5) * lane_width for k in range(lanes))
    # Right-hand traffic: on a road of two or more lanes the left half is oncoming.
    oncoming_below = lane_left + carriageway / 2 if lanes >= 2 else -np.inf

    sidewalk = (_uniform(rng, prior.sidewalk_width), _uniform(rng, prior.sidewalk_width))
    terrain = tuple(
        _uniform(rng, prior.terrain_width) if rng.random() < prior.terrain_probability else 0.0 for _ in range(2)
    )
    crossings = _sample_crossings(rng, city)
    sidewalk_outer = {-1: road_left - sidewalk[0], 1: road_right + sidewalk[1]}
    building = {-1: sidewalk_outer[-1] - terrain[0], 1: sidewalk_outer[1] + terrain[1]}
    facades = tuple(
        _sample_facades(rng, city, side, building[side], crossings) for side in (-1, 1)
    )
    geometry = {
        "kerb": {-1: road_left, 1: road_right},
        "sidewalk_outer": sidewalk_outer,
        "terrain": {-1: terrain[0], 1: terrain[1]},
    }
    planes = []
    for side in (-1, 1):
        planes += _sample_planes(rng, city, side, {
            "building": building[side], "terrain": terrain[(side + 1) // 2], "sidewalk_outer": sidewalk_outer[side],
        })
    planes = [p for p in planes if not any(c0 - 1 < p.z1 and p.z0 < c1 + 1 for c0, c1 in crossings)]
    props = _sample_props(rng, city, geometry, crossings)
    edges, heights, kinds, colours = _sample_skyline(rng, city)
    noise = rng.standard_normal((NOISE_TABLE_SIZE, NOISE_TABLE_SIZE)).astype(np.float32)
    return StreetLayout(
        focal=_uniform(rng, prior.focal),
        horizon=_uniform(rng, prior.horizon),
        camera_height=_uniform(rng, prior.camera_height),
        road_left=road_left,
        road_right=road_right,
        lane_lines=lane_lines,
        oncoming_below=oncoming_below,
        lane_centres=lane_centres,
        parking=parking,
        sidewalk=sidewalk,
        terrain=terrain,  # type: ignore[arg-type]
        facades=facades,  # type: ignore[arg-type]
        crossings=crossings,
        planes=tuple(planes),
        props=tuple(props),
        skyline_edges=edges,
        skyline_height=heights,
        skyline_kind=kinds,
        skyline_colour=colours,
        road_colour=_colour(rng, palette.road, 0.04),
        marking_colour=srgb_to_linear(np.asarray(palette.road_marking, dtype=np.float32)),
        sidewalk_colour=_colour(rng, palette.sidewalk, 0.04),
        kerb_colour=srgb_to_linear(np.asarray(palette.kerb, dtype=np.float32)),
        terrain_colour=_colour(rng, palette.terrain, 0.06),
        sun_side=int(rng.choice((-1, 1))),
        sun_tan=_uniform(rng, light.sun_elevation),
        noise_table=noise,
        ego_hood=prior.ego_hood,
        texture_seed=int(rng.integers(2**31)),
    )


# ---------------------------------------------------------------------------------------------
# Traffic


def sample_traffic(rng: np.random.Generator, city: CityStyle, layout: StreetLayout) -> Traffic:
    """Sample cars (in lanes and parking lanes) and persons (on sidewalks) for a layout."""
    prior, palette = city.layout, city.palette
    cars: list[Car] = []
    occupied: dict[float, list[float]] = {}

    def place(x: float, z: float) -> bool:
        taken = occupied.setdefault(round(x, 2), [])
        if any(abs(z - other) < CAR_MIN_GAP for other in taken):
            return False
        taken.append(z)
        return True

    for _ in range(_integers(rng, prior.moving_cars)):
        lane = float(rng.choice(layout.lane_centres))
        oncoming = lane < layout.oncoming_below
        # Keep the ego lane's first metres free (the camera car needs headway).
        nearest = 12.0 if abs(lane) < 0.5 else NEAREST_OBJECT + 2.0
        z = _uniform(rng, (nearest, 80.0))
        x = lane + _uniform(rng, (-0.3, 0.3))
        if place(lane, z):
            cars.append(Car(x, z, _uniform(rng, CAR_WIDTH), _uniform(rng, CAR_HEIGHT),
                            _colour(rng, palette.cars, 0.05), oncoming, False))
    for side, has_parking in zip((-1, 1), layout.parking):
        if not has_parking:
            continue
        x = (layout.road_left + PARKING_LANE_WIDTH / 2) if side < 0 else (layout.road_right - PARKING_LANE_WIDTH / 2)
        z = _uniform(rng, (NEAREST_OBJECT + 1.0, 12.0))
        while z < 90.0:
            if rng.random() < prior.parked_car_probability + 0.3 and not layout.in_crossing(z) and place(x, z):
                cars.append(Car(x, z, _uniform(rng, CAR_WIDTH), _uniform(rng, CAR_HEIGHT),
                                _colour(rng, palette.cars, 0.05), bool(rng.random() < 0.5), True))
            z += _uniform(rng, (5.5, 8.0))
    persons = []
    for _ in range(_integers(rng, prior.persons)):
        side = int(rng.choice((-1, 1)))
        kerb = layout.kerb_x(side)
        x = kerb + side * _uniform(rng, (0.5, max(layout.sidewalk[(side + 1) // 2] - 0.4, 0.6)))
        persons.append(Person(
            x, _uniform(rng, (NEAREST_OBJECT + 1.0, 45.0)), _uniform(rng, PERSON_HEIGHT),
            _colour(rng, palette.clothing, 0.1), _colour(rng, palette.clothing, 0.1),
            _colour(rng, palette.skin, 0.05), _uniform(rng, (0.0, 0.35)),
        ))
    return Traffic(tuple(cars), tuple(persons))
