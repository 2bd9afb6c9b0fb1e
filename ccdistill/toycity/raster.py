"""Rasterise a `StreetLayout` + `Traffic` seen from a `View` into illumination-free layers.

The result, `SceneLayers`, holds everything that does not depend on the time of day: labels,
albedo, how much sun and sky light each pixel receives, the irradiance of the artificial lights
(street lamps, headlights), the emitters (lamp heads, lit windows, car lights, signals) and
their glow. `render.py` only combines these with the lighting of a given night strength, which
is why a re-render costs a few milliseconds.

`rasterize` draws back to front onto a `Canvas` (canvas.py) through a pinhole `Camera`
(camera.py). The ground, facades, fences and the distant skyline are evaluated per pixel or
per column in closed form (ground.py, buildings.py, fences.py); objects (trees, poles, lamps,
signals, signs in props.py; cars and persons in road_users.py) are billboards (billboards.py)
painted far to near; the artificial light (lights.py) is computed last from what was drawn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ccdistill.labels import train_ids_to_label_ids
from ccdistill.toycity.buildings import draw_facades, draw_skyline
from ccdistill.toycity.camera import Camera, View
from ccdistill.toycity.canvas import N_NONE, Canvas, Drawing
from ccdistill.toycity.fences import draw_fences
from ccdistill.toycity.ground import draw_ground
from ccdistill.toycity.layout import StreetLayout, Traffic
from ccdistill.toycity.lights import artificial_light
from ccdistill.toycity.props import draw_prop
from ccdistill.toycity.road_users import draw_car, draw_ego_hood, draw_person
from ccdistill.toycity.style import CityStyle
from ccdistill.toycity.textures import glow, value_noise

EGO_VEHICLE_LABEL_ID = 1  # Cityscapes labelId of "ego vehicle" (trainId: ignored)
SKY_CURVE = 0.6  # exponent shaping the zenith-horizon gradient
CLOUD_SCALE = (2.5, 10.0)  # cloud lattice cells across the image (vertical, horizontal)
GRAIN = 0.05  # per-pixel albedo grain (fraction)
GLOW_NEAR = (0.8, 0.30)  # (sigma in 1/2-resolution pixels, weight): tight halo
GLOW_FAR = (3.0, 0.55)  # (sigma in 1/4-resolution pixels, weight): wide bloom


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


def draw_objects(d: Drawing, traffic: Traffic) -> None:
    """Props, cars and persons, farthest first so nearer ones occlude."""
    items: list[tuple[float, object]] = [(p.z, (draw_prop, p)) for p in d.layout.props]
    items += [(c.z, (draw_car, c)) for c in traffic.cars]
    items += [(p.z, (draw_person, p)) for p in traffic.persons]
    for _, (function, item) in sorted(items, key=lambda entry: -entry[0]):
        function(d, item)


def rasterize(layout: StreetLayout, traffic: Traffic, city: CityStyle, size: tuple[int, int],
              view: View, rng: np.random.Generator) -> SceneLayers:
    """Draw a scene into `SceneLayers` of `size` = (H, W); `rng` only adds albedo grain."""
    d = Drawing(layout, city, Camera(layout, size, view), Canvas(size))
    draw_ground(d)
    draw_skyline(d)
    draw_facades(d)
    draw_fences(d)
    draw_objects(d, traffic)
    hood = draw_ego_hood(d) if layout.ego_hood else np.zeros(size, bool)
    canvas, cam = d.canvas, d.camera
    sky = canvas.normal == N_NONE
    grain = 1.0 + GRAIN * rng.standard_normal(size, dtype=np.float32)
    albedo = np.clip(canvas.albedo * grain[..., None], 0.0, 1.0)
    label_ids = train_ids_to_label_ids(canvas.label)
    label_ids[hood] = EGO_VEHICLE_LABEL_ID
    sky_index = np.flatnonzero(sky)
    sky_rows, sky_cols = np.divmod(sky_index, size[1])
    sky_height = np.clip((cam.vh - cam.v[sky_rows]) / max(cam.vh, 1.0), 0.0, 1.0) ** SKY_CURVE
    cloud = value_noise(layout.noise_table, cam.v[sky_rows] / size[0] * CLOUD_SCALE[0] + 31.0,
                        cam.u[sky_cols] / size[1] * CLOUD_SCALE[1])
    distance = np.where(sky, 0.0, np.maximum(canvas.Z - cam.z0, 0.0))
    fog = (1.0 - np.exp(-distance / city.illumination.fog_distance)).astype(np.float32)
    emitters = canvas.emission + canvas.signal
    halo = glow(emitters, GLOW_NEAR, GLOW_FAR)
    return SceneLayers(
        label=canvas.label,
        label_ids=label_ids,
        albedo=albedo.astype(np.float32),
        sun=canvas.sun,
        ambient=canvas.ambient,
        sky=sky,
        sky_index=sky_index,
        sky_height=sky_height.astype(np.float32),
        cloud=cloud.astype(np.float32),
        fog=fog,
        artificial=artificial_light(d),
        emitters=(canvas.emission + halo * np.float32(city.illumination.glow)).astype(np.float32),
        signal=canvas.signal,
    )
