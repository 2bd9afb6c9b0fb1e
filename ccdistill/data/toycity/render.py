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
so night images are noisier), white balance, ISP blur, a black level and gamma tone curve,
and saturation.
"""

from __future__ import annotations

import numpy as np

from ccdistill.data.toycity.style import CameraStyle, Illumination
from ccdistill.data.toycity.textures import smoothstep
from ccdistill.errors import InputError

SUNSET = 0.55  # night strength at which the sun has gone
DUSK = 0.5  # night strength of the dusk keyframe
CLOUD_BRIGHTNESS = 0.35  # clouds brighten the day sky by up to this fraction
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # Rec. 601 weights for saturation


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


def _blur3(image: np.ndarray) -> np.ndarray:
    """Separable [1, 2, 1]/4 blur with edge replication (H×W×3)."""
    padded = np.pad(image, ((1, 1), (0, 0), (0, 0)), mode="edge")
    image = 0.25 * padded[:-2] + 0.5 * padded[1:-1] + 0.25 * padded[2:]
    padded = np.pad(image, ((0, 0), (1, 1), (0, 0)), mode="edge")
    return 0.25 * padded[:, :-2] + 0.5 * padded[:, 1:-1] + 0.25 * padded[:, 2:]


def radiance(scene, night: float) -> np.ndarray:
    """H×W×3 float32 linear scene radiance of `scene` at night strength `night` (no camera)."""
    layers, light = scene.layers, scene.city.illumination
    terms = illumination_at(light, night)
    sun_colour = np.asarray(light.sun_colour, np.float32) * np.float32(terms["sun"])
    irradiance = layers.sun[..., None] * sun_colour + layers.ambient[..., None] * terms["ambient"]
    on = np.float32(terms["lights_on"])
    if on > 0:
        irradiance += on * layers.artificial
    image = layers.albedo * irradiance + layers.signal
    if on > 0:
        image += on * (layers.emission + layers.glow)
    zenith, horizon = terms["zenith"], terms["horizon"]
    sky = horizon + (zenith - horizon) * layers.sky_height[..., None]
    sky = sky * (1.0 + np.float32(terms["clouds"]) * CLOUD_BRIGHTNESS * layers.cloud[..., None])
    image[layers.sky] = sky[layers.sky]
    image += layers.fog[..., None] * (horizon - image)
    return image.astype(np.float32, copy=False)


def apply_camera(image: np.ndarray, camera: CameraStyle, night: float, noise_seed: int = 0) -> np.ndarray:
    """Linear radiance H×W×3 float32 -> H×W×3 uint8 through the camera model (module docstring)."""
    height, width = image.shape[:2]
    gain = np.float32(camera.night_gain**night)
    signal = image * np.float32(camera.exposure * gain)
    # Vignetting: radial fall-off (optics), before the sensor adds noise.
    yy = (np.arange(height, dtype=np.float32) + 0.5) / height * 2 - 1
    xx = (np.arange(width, dtype=np.float32) + 0.5) / width * 2 - 1
    signal *= (1.0 - camera.vignetting * 0.5 * (yy[:, None] ** 2 + xx[None, :] ** 2))[..., None]
    rng = np.random.default_rng(noise_seed)
    variance = camera.shot_noise * gain * np.maximum(signal, 0.0) + (camera.read_noise * gain) ** 2
    signal += np.sqrt(variance) * rng.standard_normal(signal.shape, dtype=np.float32)
    signal *= np.asarray(camera.white_balance, np.float32)
    if camera.blur > 0:
        signal = (1 - camera.blur) * signal + camera.blur * _blur3(signal)
    black = camera.black_level
    toned = np.clip((signal - black) / (1 - black), 0.0, 1.0) ** np.float32(1.0 / camera.gamma)
    luma = toned @ LUMA
    toned = luma[..., None] + camera.saturation * (toned - luma[..., None])
    return np.clip(toned * 255.0 + 0.5, 0, 255).astype(np.uint8)


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
