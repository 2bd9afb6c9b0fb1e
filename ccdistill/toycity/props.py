"""Street props as billboards: trees, poles, street lamps, traffic lights and signs (`Prop`).

Lamps also register their head's world position on the canvas (it lights the scene at night).
"""

from __future__ import annotations

import numpy as np

from ccdistill.toycity.srgb import srgb_to_linear
from ccdistill.toycity.billboards import ellipse, paint, rect, region
from ccdistill.toycity.canvas import ID, Drawing
from ccdistill.toycity.layout import Prop
from ccdistill.toycity.textures import value_noise


def draw_prop(d: Drawing, prop: Prop) -> None:
    """Draw one prop by its kind ("tree", "pole", "lamp", "traffic_light", "sign")."""
    DRAW[prop.kind](d, prop)


def tree(d: Drawing, t: Prop) -> None:
    radius, top = t.size, t.height
    r = region(d.camera, t.x, t.z, -radius * 1.3, radius * 1.3, top * 1.05)
    if r is None:
        return
    centre = top - radius * 1.1
    bumps = value_noise(d.layout.noise_table, r.xm * 1.6 + 7 * t.variant + t.z, r.ym * 1.6)
    # Noise only roughens the outline (a clipped bump amplitude cannot punch holes inside).
    outline = 1.0 + 0.25 * np.clip(bumps, -1.5, 1.5)
    crown = ((r.xm / radius) ** 2 + ((r.ym - centre) / (radius * 1.1)) ** 2) < outline
    part = np.where(crown, 2, rect(r, -0.14, 0.14, 0.0, centre) * 1)
    trunk_colour = srgb_to_linear(np.asarray(d.city.palette.trunk, np.float32))
    shade = 1.0 + 0.3 * bumps + 0.25 * np.clip((r.ym - centre) / radius, -1, 1)
    paint(d, r, part, [0, ID["vegetation"], ID["vegetation"]], [t.colour, trunk_colour, t.colour],
          t.x, t.z, shade=np.where(crown, shade, 1.0))


def pole(d: Drawing, p: Prop) -> None:
    r = region(d.camera, p.x, p.z, -0.1, 0.1, p.height)
    if r is not None:
        paint(d, r, rect(r, -0.07, 0.07, 0.0, p.height) * 1, [0, ID["pole"]], [p.colour, p.colour], p.x, p.z)


def lamp(d: Drawing, p: Prop) -> None:
    toward = -p.side  # the arm reaches over the road
    arm, h = p.size, p.height
    lo, hi = sorted((0.0, toward * (arm + 0.3)))
    r = region(d.camera, p.x, p.z, lo - 0.2, hi + 0.2, h + 0.1)
    d.canvas.lamps.append((p.x + toward * arm, h - 0.3, p.z))
    if r is None:
        return
    reach = r.xm * toward
    head = (np.abs(reach - arm) < 0.3) & (r.ym > h - 0.3) & (r.ym < h)
    lens = head & (r.ym < h - 0.18)
    part = rect(r, -0.08, 0.08, 0.0, h) | ((reach > 0) & (reach < arm) & (r.ym > h - 0.1) & (r.ym < h)) | head
    part = np.where(lens, 2, part * 1)
    light = d.city.illumination
    lamp_light = np.asarray(light.lamp_colour, np.float32) * light.lamp_emission
    paint(d, r, part, [0, ID["pole"], ID["pole"]], [p.colour, p.colour, (0.8, 0.8, 0.75)], p.x, p.z,
          emission=[(0, 0, 0), (0, 0, 0), lamp_light])


def traffic_light(d: Drawing, p: Prop) -> None:
    h = p.height
    r = region(d.camera, p.x, p.z, -0.25, 0.25, h + 0.9)
    if r is None:
        return
    housing = rect(r, -0.17, 0.17, h, h + 0.85)
    part = np.where(housing, 2, rect(r, -0.06, 0.06, 0.0, h) * 1)
    for k, centre in enumerate((h + 0.7, h + 0.425, h + 0.15)):  # red, amber, green
        part = np.where(ellipse(r, 0.0, centre, 0.09, 0.09) & housing, 3 + k, part)
    colours = [(0.3, 0.02, 0.02), (0.3, 0.2, 0.02), (0.02, 0.25, 0.08)]
    signals = [(1.0, 0.08, 0.03), (1.0, 0.6, 0.05), (0.1, 1.0, 0.45)]
    active = [np.asarray(s, np.float32) * d.city.illumination.signal_emission * (k == p.variant)
              for k, s in enumerate(signals)]
    housing_colour = srgb_to_linear(np.asarray(d.city.palette.traffic_light_housing, np.float32))
    paint(d, r, part, [0, ID["pole"]] + [ID["traffic light"]] * 4,
          [p.colour, p.colour, housing_colour] + colours, p.x, p.z,
          signal=[(0, 0, 0)] * 3 + active)


def sign(d: Drawing, p: Prop) -> None:
    size, h = p.size, p.height
    r = region(d.camera, p.x, p.z, -size / 2 - 0.1, size / 2 + 0.1, h + size)
    if r is None:
        return
    palette = d.city.palette
    centre = h + size / 2
    if p.variant == 0:  # round: red ring, white face
        plate = ellipse(r, 0, centre, size / 2, size / 2)
        inner = ellipse(r, 0, centre, size * 0.36, size * 0.36)
        part = np.where(inner, 3, np.where(plate, 2, 0))
    elif p.variant == 1:  # blue square with a white bar
        plate = rect(r, -size / 2, size / 2, h, h + size)
        inner = rect(r, -size * 0.3, size * 0.3, centre - size * 0.08, centre + size * 0.08)
        part = np.where(inner, 3, np.where(plate, 4, 0))
    else:  # triangle: red rim, white face
        rise = (r.ym - h) / size
        plate = (rise >= 0) & (np.abs(r.xm) < (1 - rise) * size / 2)
        inner = (rise >= 0.15) & (np.abs(r.xm) < (0.85 - rise) * size / 2 * 0.8)
        part = np.where(inner, 3, np.where(plate, 2, 0))
    part = np.where(part > 0, part, rect(r, -0.045, 0.045, 0.0, h + size / 2) * 1)
    colours = [p.colour, p.colour, palette.sign_red, palette.sign_white, palette.sign_blue]
    colours = [p.colour, p.colour] + [srgb_to_linear(np.asarray(c, np.float32)) for c in colours[2:]]
    paint(d, r, part, [0, ID["pole"]] + [ID["traffic sign"]] * 3, colours, p.x, p.z)


DRAW = {"tree": tree, "pole": pole, "lamp": lamp, "traffic_light": traffic_light, "sign": sign}
