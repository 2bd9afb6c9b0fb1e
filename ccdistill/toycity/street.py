"""Sample the static part of a ToyCity street (`StreetLayout`) from a `CityStyle`'s priors.

`sample_layout` makes its draws in one fixed order (lanes, sidewalks, side streets, facades,
fences, props, skyline, noise table, then the camera, colours and sun), so one generator state
always gives the same street.
"""

from __future__ import annotations

import numpy as np

from ccdistill.toycity.srgb import srgb_to_linear
from ccdistill.toycity.draws import integers, palette_colour, uniform
from ccdistill.toycity.layout import (
    FACADE_BUILDING, FACADE_CROSSING, FACADE_GAP, PARKING_LANE_WIDTH, SKYLINE_DISTANCE, SKYLINE_TREES,
    FacadeRun, LinePlane, Prop, StreetLayout,
)
from ccdistill.toycity.style import CityStyle, Range

CROSSING_WIDTH: Range = (9.0, 14.0)
CROSSING_DISTANCE: Range = (18.0, 60.0)
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


def _sample_crossings(rng: np.random.Generator, city: CityStyle) -> tuple[tuple[float, float], ...]:
    if rng.random() >= city.layout.crossing_probability:
        return ()
    z0 = uniform(rng, CROSSING_DISTANCE)
    return ((z0, z0 + uniform(rng, CROSSING_WIDTH)),)


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
        length = uniform(rng, prior.building_length)
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
        colour=np.stack([palette_colour(rng, palette.buildings, 0.06) for _ in range(n)]),
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
    z = uniform(rng, (2.0, 20.0))
    while z < prior.street_length * 0.5:
        length = uniform(rng, (8.0, 35.0))
        roll = rng.random()
        kinds = (
            ("fence", prior.fence_probability, FENCE_HEIGHT, palette.fence, 0.05),
            ("wall", prior.wall_probability, WALL_HEIGHT, palette.wall, 0.05),
            ("hedge", prior.hedge_probability, HEDGE_HEIGHT, palette.vegetation, 0.1),
        )
        for kind, probability, heights, colours, jitter in kinds:
            if roll < probability:
                planes.append(LinePlane(kind, side, x, z, z + length, uniform(rng, heights),
                                        palette_colour(rng, colours, jitter)))
                break
            roll -= probability
        z += length + uniform(rng, (5.0, 30.0))
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
            z = uniform(rng, (FIRST_TREE, FIRST_TREE + 8.0))
            while z < prior.street_length * 0.6:
                if free(z) and slots.take(side, z):
                    props.append(Prop("tree", x, z, uniform(rng, TREE_HEIGHT), side,
                                      palette_colour(rng, palette.vegetation, 0.12), int(rng.integers(3)),
                                      uniform(rng, (1.4, 2.6))))
                z += uniform(rng, prior.tree_spacing)
        z = uniform(rng, (5.0, 20.0))
        while z < prior.street_length * 0.8:
            if free(z) and slots.take(side, z):
                props.append(Prop("lamp", kerb + side * 0.45, z, uniform(rng, prior.lamp_height), side,
                                  pole_colour, 0, uniform(rng, (1.2, 2.2))))
            z += uniform(rng, prior.lamp_spacing)
    for _ in range(integers(rng, prior.poles)):
        side, z = int(rng.choice((-1, 1))), uniform(rng, (6.0, 70.0))
        if free(z) and slots.take(side, z):
            props.append(Prop("pole", geometry["kerb"][side] + side * 0.35, z, uniform(rng, POLE_HEIGHT), side,
                              pole_colour))
    for _ in range(integers(rng, prior.signs)):
        side, z = int(rng.choice((-1, 1))), uniform(rng, (6.0, 60.0))
        if free(z) and slots.take(side, z):
            props.append(Prop("sign", geometry["kerb"][side] + side * 0.4, z, uniform(rng, SIGN_HEIGHT), side,
                              pole_colour, int(rng.integers(3)), uniform(rng, (0.55, 0.8))))
    if rng.random() < prior.traffic_light_probability:
        # At the side street if there is one (before it, facing the camera), else mid-block.
        z = crossings[0][0] - 1.5 if crossings else uniform(rng, (15.0, 50.0))
        for side in (-1, 1):
            if slots.take(side, z) or crossings:
                props.append(Prop("traffic_light", geometry["kerb"][side] + side * 0.5, z,
                                  uniform(rng, TRAFFIC_LIGHT_HEIGHT), side, pole_colour, int(rng.integers(3))))
    return props


def _sample_skyline(rng, city: CityStyle) -> tuple[np.ndarray, ...]:
    half_width = SKYLINE_DISTANCE * 1.2  # covers the widest field of view
    edges = [-half_width]
    while edges[-1] < half_width:
        edges.append(edges[-1] + uniform(rng, SKYLINE_BLOCK_WIDTH))
    n = len(edges) + 1
    kind = (rng.random(n) < SKYLINE_TREE_PROBABILITY).astype(np.int8)
    colour = np.stack([
        palette_colour(rng, city.palette.vegetation if k == SKYLINE_TREES else city.palette.buildings, 0.1)
        for k in kind
    ])
    height = rng.uniform(*SKYLINE_HEIGHT, size=n).astype(np.float32)
    return np.asarray(edges, dtype=np.float32), height, kind, colour


def sample_layout(rng: np.random.Generator, city: CityStyle) -> StreetLayout:
    """Sample the static street (see `StreetLayout`) from the city's priors."""
    prior, palette, light = city.layout, city.palette, city.illumination
    lanes = integers(rng, prior.lanes)
    lane_width = uniform(rng, prior.lane_width)
    parking = (bool(rng.random() < prior.parked_car_probability), bool(rng.random() < prior.parked_car_probability))
    carriageway = lanes * lane_width
    # The camera drives in one lane: the road's left edge is placed relative to it.
    ego_fraction = uniform(rng, prior.ego_lane_fraction)
    ego_lane = min(int(ego_fraction * lanes), lanes - 1)
    lane_left = -(ego_lane + 0.5) * lane_width
    road_left = lane_left - (PARKING_LANE_WIDTH if parking[0] else 0.0)
    road_right = lane_left + carriageway + (PARKING_LANE_WIDTH if parking[1] else 0.0)
    lane_lines = tuple(lane_left + k * lane_width for k in range(1, lanes))
    lane_centres = tuple(lane_left + (k + 0.5) * lane_width for k in range(lanes))
    # Right-hand traffic: on a road of two or more lanes the left half is oncoming.
    oncoming_below = lane_left + carriageway / 2 if lanes >= 2 else -np.inf

    sidewalk = (uniform(rng, prior.sidewalk_width), uniform(rng, prior.sidewalk_width))
    terrain = tuple(
        uniform(rng, prior.terrain_width) if rng.random() < prior.terrain_probability else 0.0 for _ in range(2)
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
        focal=uniform(rng, prior.focal),
        horizon=uniform(rng, prior.horizon),
        camera_height=uniform(rng, prior.camera_height),
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
        road_colour=palette_colour(rng, palette.road, 0.04),
        marking_colour=srgb_to_linear(np.asarray(palette.road_marking, dtype=np.float32)),
        sidewalk_colour=palette_colour(rng, palette.sidewalk, 0.04),
        kerb_colour=srgb_to_linear(np.asarray(palette.kerb, dtype=np.float32)),
        terrain_colour=palette_colour(rng, palette.terrain, 0.06),
        sun_side=int(rng.choice((-1, 1))),
        sun_tan=uniform(rng, light.sun_elevation),
        noise_table=noise,
        ego_hood=prior.ego_hood,
        texture_seed=int(rng.integers(2**31)),
    )
