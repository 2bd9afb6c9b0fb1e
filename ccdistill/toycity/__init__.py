"""ToyCity: the procedurally generated day/night street benchmark (docs/DATA.md, Part 1).

Two cities ("source": Cityscapes-like, "target": Dark-Zurich-like) whose scenes are sampled once
and relit at any night strength:

    from ccdistill.toycity import sample_scene, render, render_example
    scene = sample_scene(seed=0, city="source", size=(128, 256))
    day, dusk, night = (render(scene, t) for t in (0.0, 0.5, 1.0))

`generate_toycity(root)` writes the on-disk benchmark in the Cityscapes (source) and Dark
Zurich (target) layouts; see docs/DATA.md. `generate_toycity(root, shift=shift_preset("hard"))`
writes a harder one: `ShiftSettings` sets how far the target city is from the source city. Reading it back is the data package's job
(`ccdistill.data`; the labelled target-day split is `ccdistill.data.toycity_target_day`): the
renderer imports nothing from `ccdistill.data` (only figure.py, the docs-figure script, uses its
translations), so the data package may import it without a loop.
"""

from ccdistill.toycity.camera import View
from ccdistill.toycity.generate import generate_toycity, verify_toycity
from ccdistill.toycity.render import render
from ccdistill.toycity.scene import Scene, paired_scene, render_example, sample_scene
from ccdistill.toycity.shift import PRESETS, ShiftSettings, shift_preset
from ccdistill.toycity.style import SOURCE_CITY, TARGET_CITY, CameraStyle, CityStyle, get_city

__all__ = [
    "PRESETS", "SOURCE_CITY", "TARGET_CITY", "CameraStyle", "CityStyle", "Scene", "ShiftSettings", "View",
    "generate_toycity", "get_city", "paired_scene", "render", "render_example", "sample_scene", "shift_preset",
    "verify_toycity",
]
