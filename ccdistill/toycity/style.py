"""City styles: everything that makes the ToyCity "source" and "target" cities differ.

A `CityStyle` bundles four independent parts, so a notebook can change one and keep the rest:

- `Palette`      surface colours (sRGB in [0, 1]; converted to linear albedo when rasterised),
- `LayoutPrior`  street geometry and how many of each object to expect, plus the camera's
                 geometric intrinsics (focal length, horizon, mounting height),
- `Illumination` the lighting keyframes for day, dusk and night (sun, sky, ambient, lamps,
                 windows, headlights); `night` in `render` interpolates between them,
- `CameraStyle`  the photometric camera: white balance, tone curve, saturation, vignetting,
                 blur, sensor noise and how much gain it applies at night.

The source city is Cityscapes-like (a muted, neutral automotive camera behind a windscreen,
ego-vehicle hood visible, wide tree-lined streets); the target city is Dark-Zurich-like (a
roof-mounted wide-angle action camera with warm white balance, strong vignetting, soft optics,
more noise; narrow old-town streets, pastel facades, more parked cars). These differences are
the "inherent dataset difference" of docs/METHOD.md, section 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ccdistill.errors import InputError

RGB = tuple[float, float, float]
Range = tuple[float, float]


@dataclass(frozen=True)
class Palette:
    """Surface colours in sRGB [0, 1]. Tuples of colours are sampled per object."""

    road: tuple[RGB, ...] = ((0.31, 0.31, 0.33), (0.27, 0.27, 0.29))
    road_marking: RGB = (0.85, 0.85, 0.82)
    sidewalk: tuple[RGB, ...] = ((0.62, 0.58, 0.60), (0.56, 0.55, 0.55))
    kerb: RGB = (0.70, 0.70, 0.68)
    terrain: tuple[RGB, ...] = ((0.42, 0.50, 0.26), (0.48, 0.47, 0.30))
    vegetation: tuple[RGB, ...] = ((0.22, 0.36, 0.14), (0.28, 0.40, 0.16), (0.20, 0.30, 0.15))
    trunk: RGB = (0.30, 0.24, 0.18)
    buildings: tuple[RGB, ...] = (
        (0.55, 0.53, 0.50), (0.62, 0.58, 0.52), (0.45, 0.44, 0.44), (0.66, 0.62, 0.55),
        (0.50, 0.42, 0.36),
    )
    window: RGB = (0.16, 0.19, 0.23)
    wall: tuple[RGB, ...] = ((0.52, 0.50, 0.48), (0.45, 0.42, 0.40))
    fence: tuple[RGB, ...] = ((0.35, 0.36, 0.34), (0.45, 0.40, 0.33))
    pole: RGB = (0.45, 0.46, 0.46)
    sign_red: RGB = (0.75, 0.08, 0.08)
    sign_blue: RGB = (0.08, 0.25, 0.65)
    sign_white: RGB = (0.90, 0.90, 0.88)
    traffic_light_housing: RGB = (0.10, 0.11, 0.10)
    cars: tuple[RGB, ...] = (
        (0.12, 0.12, 0.13), (0.75, 0.75, 0.76), (0.45, 0.47, 0.50), (0.55, 0.08, 0.07),
        (0.10, 0.18, 0.40), (0.85, 0.85, 0.84),
    )
    clothing: tuple[RGB, ...] = (
        (0.10, 0.10, 0.12), (0.20, 0.22, 0.35), (0.45, 0.15, 0.12), (0.50, 0.50, 0.50),
        (0.30, 0.25, 0.20), (0.70, 0.65, 0.55),
    )
    skin: tuple[RGB, ...] = ((0.80, 0.62, 0.50), (0.55, 0.38, 0.28), (0.88, 0.72, 0.62))
    ego_hood: RGB = (0.06, 0.06, 0.07)


@dataclass(frozen=True)
class LayoutPrior:
    """Street geometry and object counts (metres; ranges are sampled uniformly)."""

    focal: Range = (1.05, 1.15)  # focal length / image width (Cityscapes: 2262 / 2048)
    horizon: Range = (0.40, 0.45)  # horizon row / image height
    camera_height: Range = (1.2, 1.35)
    lanes: tuple[int, int] = (2, 4)  # number of lanes, inclusive range
    lane_width: Range = (3.0, 3.5)
    ego_lane_fraction: Range = (0.3, 0.7)  # where in the road the camera drives (0 = left edge)
    sidewalk_width: Range = (2.5, 4.5)
    terrain_probability: float = 0.5  # chance of a grass strip between sidewalk and buildings
    terrain_width: Range = (1.5, 4.0)
    building_height: Range = (9.0, 24.0)
    building_length: Range = (8.0, 26.0)
    building_gap_probability: float = 0.18  # chance that a facade slot is a gap (yard, hedge)
    floor_height: Range = (2.9, 3.4)
    window_spacing: Range = (2.2, 3.2)
    tree_probability: float = 0.7  # chance per side that the street is tree-lined
    tree_spacing: Range = (8.0, 14.0)
    lamp_spacing: Range = (20.0, 32.0)
    lamp_height: Range = (7.0, 9.0)
    fence_probability: float = 0.35
    wall_probability: float = 0.15
    hedge_probability: float = 0.25
    poles: tuple[int, int] = (1, 4)
    signs: tuple[int, int] = (1, 3)
    traffic_light_probability: float = 0.6
    moving_cars: tuple[int, int] = (1, 5)
    parked_car_probability: float = 0.35  # per kerb slot of ~6 m
    persons: tuple[int, int] = (1, 7)
    traffic_density: float = 1.0  # factor on the moving cars, persons and parked-car chance above (not on the street)
    crossing_probability: float = 0.35  # chance of a side street crossing the view
    ego_hood: bool = True  # Cityscapes shows the recording car's hood (label: ignore)
    street_length: float = 160.0  # metres of street modelled in front of the camera


@dataclass(frozen=True)
class Illumination:
    """Lighting keyframes. Radiance units: a white surface in day sun is about 1.

    Day, dusk and night sit at night = 0, 0.5 and 1; strengths are interpolated in log
    space (so brightness falls smoothly over decades) and colours linearly.
    """

    sun_colour: RGB = (1.0, 0.97, 0.92)
    sun_strength: float = 1.15
    sun_elevation: Range = (0.35, 0.9)  # tan of the sun's elevation (sets shadow length)
    ambient_colour: tuple[RGB, RGB, RGB] = ((0.92, 0.97, 1.05), (0.95, 0.80, 0.85), (0.55, 0.65, 1.0))
    ambient_strength: tuple[float, float, float] = (0.55, 0.10, 0.0015)
    sky_zenith: tuple[RGB, RGB, RGB] = ((0.55, 0.66, 0.85), (0.03, 0.035, 0.09), (0.0004, 0.0005, 0.0010))
    sky_horizon: tuple[RGB, RGB, RGB] = ((0.88, 0.90, 0.93), (0.16, 0.09, 0.06), (0.0045, 0.0032, 0.0022))
    cloud_amount: float = 0.25
    lamp_colour: RGB = (1.0, 0.62, 0.28)  # high-pressure sodium
    lamp_intensity: float = 1.1  # lamp irradiance × distance² (1.1 / 8² under an 8 m lamp)
    lamp_emission: float = 1.0  # radiance of a lamp head (saturates at night gain, then glows)
    window_colour: RGB = (1.0, 0.78, 0.48)
    window_lit_fraction: float = 0.35
    window_emission: float = 0.012
    headlight_colour: RGB = (1.0, 0.95, 0.85)
    headlight_intensity: float = 0.035  # irradiance of the ego car's low beams on the road
    headlight_emission: float = 0.6
    taillight_colour: RGB = (1.0, 0.05, 0.03)
    taillight_emission: float = 0.15
    signal_emission: float = 1.5  # traffic-light lamps (lit day and night)
    glow: float = 0.55  # strength of the bloom around emitters
    lights_on: Range = (0.2, 0.6)  # night strengths over which artificial lights switch on
    fog_distance: float = 260.0  # aerial perspective: distance at which 63 % is haze


@dataclass(frozen=True)
class CameraStyle:
    """Photometric camera: sensor + ISP applied to scene radiance."""

    exposure: float = 0.95
    night_gain: float = 16.0  # exposure × gain at full night relative to day (brightness and noise)
    white_balance: RGB = (1.0, 1.0, 1.0)  # per-channel gains
    gamma: float = 2.2  # display encoding exponent of the tone curve
    black_level: float = 0.012  # linear level mapped to 0 (crushes night shadows)
    saturation: float = 0.85
    vignetting: float = 0.12  # fractional darkening in the image corners
    blur: float = 0.15  # mix weight of a 3×3 binomial blur (ISP softness)
    shot_noise: float = 0.0004  # Poisson part: variance per unit of signal at unit gain
    read_noise: float = 0.0008  # Gaussian std at unit gain (linear units)


@dataclass(frozen=True)
class CityStyle:
    """One ToyCity city: palette, layout prior, illumination and camera."""

    name: str
    palette: Palette = field(default_factory=Palette)
    layout: LayoutPrior = field(default_factory=LayoutPrior)
    illumination: Illumination = field(default_factory=Illumination)
    camera: CameraStyle = field(default_factory=CameraStyle)


SOURCE_CITY = CityStyle(name="source")

TARGET_CITY = CityStyle(
    name="target",
    palette=Palette(
        road=((0.40, 0.39, 0.38), (0.36, 0.35, 0.35)),
        road_marking=(0.90, 0.85, 0.55),
        sidewalk=((0.50, 0.49, 0.47), (0.58, 0.55, 0.50)),
        kerb=(0.62, 0.60, 0.56),
        terrain=((0.50, 0.52, 0.28), (0.55, 0.50, 0.32)),
        vegetation=((0.30, 0.38, 0.12), (0.36, 0.40, 0.14), (0.25, 0.33, 0.12)),
        trunk=(0.28, 0.22, 0.17),
        buildings=(
            (0.86, 0.82, 0.72), (0.80, 0.66, 0.45), (0.78, 0.60, 0.56), (0.62, 0.72, 0.64),
            (0.90, 0.88, 0.84), (0.70, 0.52, 0.38),
        ),
        window=(0.12, 0.13, 0.14),
        wall=((0.70, 0.66, 0.58), (0.60, 0.56, 0.50)),
        fence=((0.25, 0.30, 0.25), (0.55, 0.45, 0.30)),
        pole=(0.30, 0.33, 0.30),
        cars=(
            (0.92, 0.92, 0.90), (0.08, 0.08, 0.09), (0.35, 0.38, 0.42), (0.15, 0.30, 0.55),
            (0.70, 0.70, 0.66), (0.55, 0.45, 0.30),
        ),
        clothing=(
            (0.08, 0.08, 0.10), (0.25, 0.30, 0.40), (0.60, 0.55, 0.45), (0.20, 0.35, 0.25),
            (0.55, 0.20, 0.30),
        ),
    ),
    layout=LayoutPrior(
        focal=(0.62, 0.72),  # wide-angle action camera
        horizon=(0.36, 0.41),
        camera_height=(1.6, 1.8),  # mounted on the roof
        lanes=(1, 2),
        lane_width=(3.0, 3.4),
        ego_lane_fraction=(0.25, 0.75),
        sidewalk_width=(1.8, 3.0),
        terrain_probability=0.2,
        terrain_width=(1.0, 2.5),
        building_height=(14.0, 26.0),
        building_length=(10.0, 20.0),
        building_gap_probability=0.08,
        floor_height=(3.1, 3.6),
        window_spacing=(2.6, 3.6),
        tree_probability=0.35,
        tree_spacing=(10.0, 18.0),
        lamp_spacing=(15.0, 24.0),
        lamp_height=(5.5, 7.0),
        fence_probability=0.25,
        wall_probability=0.3,
        hedge_probability=0.15,
        poles=(2, 6),
        signs=(1, 4),
        traffic_light_probability=0.45,
        moving_cars=(0, 3),
        parked_car_probability=0.6,
        persons=(0, 5),
        crossing_probability=0.5,
        ego_hood=False,
    ),
    illumination=Illumination(
        sky_zenith=((0.30, 0.48, 0.88), (0.035, 0.035, 0.10), (0.0005, 0.0005, 0.0009)),
        sky_horizon=((0.72, 0.82, 0.95), (0.18, 0.10, 0.07), (0.0060, 0.0040, 0.0024)),
        cloud_amount=0.12,
        lamp_colour=(1.0, 0.70, 0.40),
        lamp_intensity=0.4,
        window_lit_fraction=0.3,
    ),
    camera=CameraStyle(
        exposure=1.0,
        night_gain=18.0,
        white_balance=(1.10, 1.0, 0.86),
        gamma=1.9,
        black_level=0.02,
        saturation=1.3,
        vignetting=0.38,
        blur=0.6,
        shot_noise=0.0008,
        read_noise=0.0009,
    ),
)

CITIES: dict[str, CityStyle] = {"source": SOURCE_CITY, "target": TARGET_CITY}


def get_city(city: str | CityStyle) -> CityStyle:
    """Return the `CityStyle` for a name ("source" or "target") or pass a style through."""
    if isinstance(city, CityStyle):
        return city
    if city not in CITIES:
        raise InputError(
            f"city must be one of {sorted(CITIES)} or a CityStyle, got {city!r}; "
            "use 'source' (Cityscapes-like) or 'target' (Dark-Zurich-like)."
        )
    return CITIES[city]
