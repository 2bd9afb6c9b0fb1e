"""ToyCity: the procedurally generated day/night street benchmark (SPEC 5.2).

Two cities ("source": Cityscapes-like, "target": Dark-Zurich-like) whose scenes are sampled once
and relit at any night strength:

    from ccdistill.data.toycity import sample_scene, render, render_example
    scene = sample_scene(seed=0, city="source", size=(128, 256))
    day, dusk, night = (render(scene, t) for t in (0.0, 0.5, 1.0))

`generate_toycity(root)` writes the on-disk benchmark in the Cityscapes (source) and Dark
Zurich (target) layouts; see docs/DATA.md. `ToyCityTargetDay(root, split)` serves the val/test
day references with their day labels (re-sampled from the seed; the layout has none on disk).
"""

from ccdistill.data.toycity.generate import generate_toycity, verify_toycity
from ccdistill.data.toycity.raster import View
from ccdistill.data.toycity.render import render
from ccdistill.data.toycity.scene import Scene, paired_scene, render_example, sample_scene
from ccdistill.data.toycity.style import SOURCE_CITY, TARGET_CITY, CameraStyle, CityStyle, get_city
from ccdistill.data.toycity.target_day import ToyCityTargetDay

__all__ = [
    "SOURCE_CITY", "TARGET_CITY", "CameraStyle", "CityStyle", "Scene", "ToyCityTargetDay", "View", "generate_toycity",
    "get_city", "paired_scene", "render", "render_example", "sample_scene", "verify_toycity",
]
