"""A ToyCity scene: a sampled street seen from one view, with its illumination-free layers cached.

    scene = sample_scene(seed=3, city="target", size=(128, 256))
    day, night = render(scene, 0.0), render(scene, 1.0)     # same content, other light
    other = paired_scene(scene, seed=4)                      # same place, new traffic, camera moved

Seeds may be an int or a sequence of ints (e.g. (seed, split, index)); they feed a
`numpy.random.SeedSequence`, which spawns independent streams for the layout, the traffic and
the texture grain, so re-sampling one never changes the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ccdistill.errors import InputError
from ccdistill.toycity.camera import View
from ccdistill.toycity.layout import StreetLayout, Traffic
from ccdistill.toycity.raster import SceneLayers, rasterize
from ccdistill.toycity.render import render
from ccdistill.toycity.street import sample_layout
from ccdistill.toycity.style import CityStyle, get_city
from ccdistill.toycity.traffic import sample_traffic

Seed = int | Sequence[int]

# Day/night pairs (Dark-Zurich-like): how far the night camera may sit from the day camera.
PAIR_MAX_SCALE = 0.04  # zoom ±4 %
PAIR_MAX_SHIFT = (0.03, 0.02)  # principal point ± fraction of (W, H)
PAIR_MAX_FORWARD = 1.5  # metres along the street
PAIR_MAX_LATERAL = 0.3  # metres across
MIN_SIZE = 16  # pixels; smaller images cannot hold the scene's structure


@dataclass(eq=False)
class Scene:
    """One scene: city style, size (H, W), static layout, traffic, view and cached layers."""

    city: CityStyle
    size: tuple[int, int]
    layout: StreetLayout
    traffic: Traffic
    view: View
    layers: SceneLayers

    @property
    def label(self) -> np.ndarray:
        """H×W uint8 trainIds (0..18, 255 = ignored)."""
        return self.layers.label

    @property
    def label_ids(self) -> np.ndarray:
        """H×W uint8 Cityscapes labelIds."""
        return self.layers.label_ids


def _check_size(size: tuple[int, int]) -> tuple[int, int]:
    if len(size) != 2 or min(size) < MIN_SIZE:
        raise InputError(f"size must be (H, W) with both at least {MIN_SIZE} pixels, got {size}.")
    return int(size[0]), int(size[1])


def _streams(seed: Seed, count: int) -> list[np.random.Generator]:
    entropy = [int(seed)] if np.isscalar(seed) else [int(s) for s in seed]
    if any(s < 0 for s in entropy):
        raise InputError(f"seeds must be non-negative integers, got {seed}.")
    return [np.random.default_rng(child) for child in np.random.SeedSequence(entropy).spawn(count)]


def sample_scene(
    seed: Seed = 0,
    city: str | CityStyle = "source",
    size: tuple[int, int] = (128, 256),
    view: View | None = None,
) -> Scene:
    """Sample a street scene and rasterise its intrinsic layers.

    Args:
        seed: int or sequence of ints; the same seed gives the same scene.
        city: "source" (Cityscapes-like), "target" (Dark-Zurich-like) or a CityStyle.
        size: (H, W) in pixels.
        view: camera placement (default: the canonical camera).

    Returns:
        A Scene; `render(scene, night)` turns it into an H×W×3 uint8 image and `scene.label`
        is its H×W uint8 trainId map.
    """
    city = get_city(city)
    size = _check_size(size)
    layout_rng, traffic_rng, texture_rng = _streams(seed, 3)
    layout = sample_layout(layout_rng, city)
    traffic = sample_traffic(traffic_rng, city, layout)
    view = view if view is not None else View()
    return Scene(city, size, layout, traffic, view, rasterize(layout, traffic, city, size, view, texture_rng))


def pair_view(rng: np.random.Generator) -> View:
    """A small random camera offset (zoom, principal point, a metre or so of travel)."""
    return View(
        scale=1.0 + float(rng.uniform(-PAIR_MAX_SCALE, PAIR_MAX_SCALE)),
        shift=(float(rng.uniform(-PAIR_MAX_SHIFT[0], PAIR_MAX_SHIFT[0])),
               float(rng.uniform(-PAIR_MAX_SHIFT[1], PAIR_MAX_SHIFT[1]))),
        forward=float(rng.uniform(-PAIR_MAX_FORWARD, PAIR_MAX_FORWARD)),
        lateral=float(rng.uniform(-PAIR_MAX_LATERAL, PAIR_MAX_LATERAL)),
    )


def paired_scene(scene: Scene, seed: Seed = 0, view: View | None = None) -> Scene:
    """The same place at another time: same static layout, re-sampled cars and persons, and the
    camera moved slightly (`pair_view`, unless `view` is given). Like Dark Zurich's GPS-matched
    day/night frames: coarsely aligned, not pixel-identical."""
    view_rng, traffic_rng, texture_rng = _streams(seed, 3)
    view = view if view is not None else pair_view(view_rng)
    traffic = sample_traffic(traffic_rng, scene.city, scene.layout)
    layers = rasterize(scene.layout, traffic, scene.city, scene.size, view, texture_rng)
    return Scene(scene.city, scene.size, scene.layout, traffic, view, layers)


def render_example(
    city: str = "source", seed: int = 0, night: float = 0.0, size: tuple[int, int] = (128, 256)
) -> tuple[np.ndarray, np.ndarray]:
    """One rendered example for notebooks: (H×W×3 uint8 image, H×W uint8 trainIds)."""
    scene = sample_scene(seed, city, size)
    return render(scene, night, noise_seed=seed), scene.label
