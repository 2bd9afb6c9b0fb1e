"""Road users as billboards: cars (`Car`) and persons (`Person`), and the recording car's own
hood at the bottom of the image. Cars with lights toward the camera register on the canvas
(their low beams light the road at night)."""

from __future__ import annotations

import numpy as np

from ccdistill.labels import IGNORE_INDEX
from ccdistill.toycity.srgb import srgb_to_linear
from ccdistill.toycity.billboards import ellipse, paint, region
from ccdistill.toycity.canvas import HOOD_SUN, ID, N_UP, Drawing
from ccdistill.toycity.layout import Car, Person

HOOD_FRACTION = 0.075  # share of the image height the ego hood covers at the centre
HOOD_CURVE = 0.45


def draw_car(d: Drawing, c: Car) -> None:
    half, h = c.width / 2, c.height
    r = region(d.camera, c.x, c.z, -half, half, h)
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
    light = _car_light(d, c.facing_camera) if lights_on else np.zeros(3, np.float32)
    lamp_albedo = (0.85, 0.85, 0.8) if c.facing_camera else (0.55, 0.04, 0.03)
    # Parts: body/cabin, bumper, glass, tyres/underbody, plate, lights.
    colours = [c.colour, c.colour, (0.03, 0.03, 0.03), (0.05, 0.06, 0.07), (0.02, 0.02, 0.02),
               (0.8, 0.8, 0.78), lamp_albedo]
    emission = [(0, 0, 0)] * 6 + [light]
    # A vertical gradient: roofs catch more sky light than the lower body.
    shade = 0.75 + 0.35 * np.clip(y, 0, 1)
    paint(d, r, part, [0] + [ID["car"]] * 6, colours, c.x, c.z, emission=emission, shade=shade)
    if c.facing_camera and lights_on:
        d.canvas.oncoming.append((c.x, c.z))


def _car_light(d: Drawing, front: bool) -> np.ndarray:
    """Emission (×3) of a car's head lights (front) or tail lights."""
    light = d.city.illumination
    if front:
        return np.asarray(light.headlight_colour, np.float32) * light.headlight_emission
    return np.asarray(light.taillight_colour, np.float32) * light.taillight_emission


def draw_person(d: Drawing, p: Person) -> None:
    h = p.height
    r = region(d.camera, p.x, p.z, -0.25 * h, 0.25 * h, h)
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
    head = ellipse(r, 0.0, 0.925 * h, 0.06 * h, 0.075 * h)
    hair = head & (y > 0.95)
    part = np.zeros(np.broadcast_shapes(r.xm.shape, r.ym.shape), np.int8)
    for index, mask in enumerate((legs, torso | arms, neck | head, hair), start=1):
        part[mask] = index
    colours = [p.bottom, p.bottom, p.top, p.skin, (0.04, 0.03, 0.02)]  # parts: legs, torso, skin, hair
    paint(d, r, part, [0] + [ID["person"]] * 4, colours, p.x, p.z)


def draw_ego_hood(d: Drawing) -> np.ndarray:
    """The recording car's hood at the bottom (Cityscapes; ignored in the labels): its H×W mask."""
    cam = d.camera
    across = (cam.u - cam.width / 2) / (cam.width / 2)
    top = cam.height * (1 - HOOD_FRACTION * (1 - HOOD_CURVE * across**2))
    mask = cam.v[:, None] >= top[None, :]
    colour = srgb_to_linear(np.asarray(d.city.palette.ego_hood, np.float32))
    shade = 1.0 + 0.6 * np.clip((cam.v[:, None] - top[None, :]) / (cam.height * HOOD_FRACTION), 0, 1)
    d.canvas.set(mask, IGNORE_INDEX, colour * shade[..., None], 0.0, 0.9, 1.0 + cam.z0, N_UP, HOOD_SUN, 0.5)
    return mask
