"""Relight a scene's cached layers for a night strength and pass them through a camera.

`render(scene, night)` is cheap (a few ms at 128×256): the geometry was rasterised once in
`sample_scene`; here only the light changes.

Illumination (linear radiance) at night strength t ∈ [0, 1]:

    E(t) = sun(t)·c_sun·S + amb(t)·A + on(t)·E_art            (S, A, E_art cached layers)
    L(t) = albedo·E(t) + on(t)·(emission + glow) + signal      (sky: its own gradient)
    L    = L + fog·(horizon colour(t) − L)

sun(t) sets between t = 0 and SUNSET; ambient and sky follow day -> dusk (t = 0.5) -> night
keyframes (strengths interpolated in log space); on(t) switches lamps, windows and headlights
on over the city's `lights_on` range. The camera then applies exposure with a gain that grows
toward night, vignetting, Poisson-Gaussian sensor noise (variance shot·gain·L + (gain·read)²,
so night images are noisier), a colour matrix (white balance, saturation), ISP blur, and a
black level + gamma tone curve (as a lookup table).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ccdistill.errors import InputError
from ccdistill.toycity.style import CameraStyle, Illumination
from ccdistill.toycity.textures import smoothstep

SUNSET = 0.55  # night strength at which the sun has gone
DUSK = 0.5  # night strength of the dusk keyframe
CLOUD_BRIGHTNESS = 0.35  # clouds brighten the day sky by up to this fraction
LUMA = np.array([0.299, 0.587, 0.114])  # Rec. 601 weights for saturation
TONE_LEVELS = 16384  # resolution of the tone-curve lookup table (linear input levels)


def _keyframe(t: float, values, log: bool = False) -> np.ndarray:
    """Interpolate (day, dusk, night) keyframes at night strength t (linear or log space)."""
    day, dusk, night = (np.asarray(v, dtype=np.float64) for v in values)
    a, b, w = (day, dusk, t / DUSK) if t <= DUSK else (dusk, night, (t - DUSK) / (1 - DUSK))
    if log:
        return np.exp((1 - w) * np.log(a) + w * np.log(b))
    return (1 - w) * a + w * b


def illumination_at(light: Illumination, night: float) -> dict[str, np.ndarray | float]:
    """The lighting terms at night strength `night` (for plots and for `render`)."""
    strength = float(_keyframe(night, light.ambient_strength, log=True))
    return {
        "sun": light.sun_strength * (1.0 - smoothstep(0.0, SUNSET, night)),
        "ambient": (_keyframe(night, light.ambient_colour) * strength).astype(np.float32),
        "zenith": _keyframe(night, light.sky_zenith, log=True).astype(np.float32),
        "horizon": _keyframe(night, light.sky_horizon, log=True).astype(np.float32),
        "lights_on": smoothstep(light.lights_on[0], light.lights_on[1], night),
        "clouds": light.cloud_amount * (1.0 - smoothstep(0.0, SUNSET, night)),
    }


def _soften(image: np.ndarray, strength: float) -> np.ndarray:
    """Separable [w, 1 − 2w, w] blur along both axes, w = strength / 4 (edges replicated);
    strength 1 is the [1, 2, 1] / 4 binomial kernel. Works in place on a float32 H×W×3."""
    side = np.float32(strength / 4)
    centre = np.float32(1 - 2 * side)
    for axis in (0, 1):
        source = image.copy()
        image *= centre
        lead = [slice(None)] * 3
        lag = [slice(None)] * 3
        lead[axis], lag[axis] = slice(1, None), slice(None, -1)
        image[tuple(lead)] += side * source[tuple(lag)]
        image[tuple(lag)] += side * source[tuple(lead)]
        first = [slice(None)] * 3
        last = [slice(None)] * 3
        first[axis], last[axis] = slice(0, 1), slice(-1, None)
        image[tuple(first)] += side * source[tuple(first)]
        image[tuple(last)] += side * source[tuple(last)]
    return image


def radiance(scene, night: float) -> np.ndarray:
    """H×W×3 float32 linear scene radiance of `scene` at night strength `night` (no camera)."""
    layers, light = scene.layers, scene.city.illumination
    terms = illumination_at(light, night)
    sun_colour = np.asarray(light.sun_colour, np.float32) * np.float32(terms["sun"])
    irradiance = layers.sun[..., None] * sun_colour
    irradiance += layers.ambient[..., None] * terms["ambient"]
    on = np.float32(terms["lights_on"])
    if on > 0:
        irradiance += on * layers.artificial
    image = irradiance
    image *= layers.albedo
    image += layers.signal
    if on > 0:
        image += on * layers.emitters
    zenith, horizon = terms["zenith"], terms["horizon"]
    sky = horizon + (zenith - horizon) * layers.sky_height[:, None]
    sky *= 1.0 + np.float32(terms["clouds"]) * CLOUD_BRIGHTNESS * layers.cloud[:, None]
    flat = image.reshape(-1, 3)
    flat[layers.sky_index] = sky
    image += layers.fog[..., None] * (horizon - image)
    return image


@lru_cache(maxsize=16)
def _tone_table(camera: CameraStyle) -> np.ndarray:
    """uint8 output for each of TONE_LEVELS linear input levels in [0, 1]: black level, then
    the camera's gamma curve."""
    levels = np.linspace(0.0, 1.0, TONE_LEVELS, dtype=np.float64)
    toned = np.clip((levels - camera.black_level) / (1 - camera.black_level), 0.0, 1.0) ** (1.0 / camera.gamma)
    return np.clip(toned * 255.0 + 0.5, 0, 255).astype(np.uint8)


def colour_matrix(camera: CameraStyle) -> np.ndarray:
    """3×3 ISP colour matrix: white balance, then saturation about the luma axis."""
    saturation = camera.saturation * np.eye(3) + (1 - camera.saturation) * np.outer(np.ones(3), LUMA)
    return (saturation @ np.diag(camera.white_balance)).astype(np.float32)


def apply_camera(image: np.ndarray, camera: CameraStyle, night: float, noise_seed: int = 0) -> np.ndarray:
    """Linear radiance H×W×3 float32 -> H×W×3 uint8 through the camera model (module docstring).
    Overwrites `image`."""
    height, width = image.shape[:2]
    gain = np.float32(camera.night_gain**night)
    # Vignetting: radial fall-off (optics), before the sensor adds noise.
    yy = (np.arange(height, dtype=np.float32) + 0.5) / height * 2 - 1
    xx = (np.arange(width, dtype=np.float32) + 0.5) / width * 2 - 1
    response = (1.0 - np.float32(camera.vignetting * 0.5) * (yy[:, None] ** 2 + xx[None, :] ** 2))
    signal = image
    signal *= (response * np.float32(camera.exposure) * gain)[..., None]
    # Poisson-Gaussian noise: variance shot·gain·signal + (read·gain)².
    variance = np.maximum(signal, 0.0)
    variance *= np.float32(camera.shot_noise) * gain
    variance += np.float32((camera.read_noise * gain) ** 2)
    noise = np.random.default_rng(noise_seed).standard_normal(signal.shape, dtype=np.float32)
    noise *= np.sqrt(variance)
    signal += noise
    signal = signal @ colour_matrix(camera).T
    if camera.blur > 0:
        signal = _soften(signal, camera.blur)
    index = np.clip(signal * np.float32(TONE_LEVELS - 1), 0, TONE_LEVELS - 1).astype(np.int32)
    return _tone_table(camera)[index]


def render(scene, night: float = 0.0, camera: CameraStyle | None = None, noise_seed: int = 0) -> np.ndarray:
    """Render a `Scene` at night strength `night` (0 day, ~0.5 dusk/twilight, 1 night).

    Args:
        scene: from `sample_scene` (its layers are cached; only the light is computed here).
        night: continuous night strength in [0, 1].
        camera: photometric camera; None = the scene's city camera.
        noise_seed: seed of the sensor noise (same seed -> identical image).

    Returns:
        H×W×3 uint8 RGB image.
    """
    night = float(night)
    if not 0.0 <= night <= 1.0:
        raise InputError(f"night must be in [0, 1] (0 day, 0.5 dusk, 1 night), got {night}.")
    camera = camera if camera is not None else scene.city.camera
    return apply_camera(radiance(scene, night), camera, night, noise_seed)
