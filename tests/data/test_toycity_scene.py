"""ToyCity scenes and rendering: labels, illumination, determinism, cities, day/night pairs."""

from __future__ import annotations

import numpy as np
import pytest

from ccdistill.labels import CLASS_NAMES, KNOWN_TRAIN_IDS, STATIC_CLASSES, label_ids_to_train_ids
from ccdistill.data.colour import rgb_to_lab
from ccdistill.errors import InputError
from ccdistill.toycity import (
    SOURCE_CITY, TARGET_CITY, View, get_city, paired_scene, render, render_example, sample_scene,
)

SIZE = (64, 128)
SEEDS = range(6)
REQUIRED_CLASSES = (
    "road", "sidewalk", "building", "fence", "pole", "traffic light", "traffic sign", "vegetation",
    "terrain", "sky", "person", "car",
)


@pytest.fixture(scope="module")
def scenes():
    return {city: [sample_scene(seed, city, SIZE) for seed in SEEDS] for city in ("source", "target")}


def test_render_returns_uint8_image_and_valid_labels(scenes):
    for city_scenes in scenes.values():
        for scene in city_scenes:
            image = render(scene, 0.3)
            assert image.shape == SIZE + (3,) and image.dtype == np.uint8
            assert scene.label.shape == SIZE and scene.label.dtype == np.uint8
            assert set(np.unique(scene.label).tolist()) <= KNOWN_TRAIN_IDS
            # labelIds map back to exactly the trainIds (the ego hood: labelId 1 -> 255).
            np.testing.assert_array_equal(label_ids_to_train_ids(scene.label_ids), scene.label)


def test_all_required_classes_appear():
    present: set[int] = set()
    for city in ("source", "target"):
        for seed in range(8):
            present |= set(np.unique(sample_scene(seed, city, (128, 256)).label).tolist())
    missing = [name for name in REQUIRED_CLASSES if CLASS_NAMES.index(name) not in present]
    assert not missing, f"classes never drawn: {missing}"


@pytest.mark.parametrize("city", ["source", "target"])
def test_night_is_much_darker_and_twilight_lies_between(scenes, city):
    day, dusk, night = (
        np.array([render(scene, strength, noise_seed=seed).mean() for seed, scene in enumerate(scenes[city])])
        for strength in (0.0, 0.5, 1.0)
    )
    assert np.all(night < 0.7 * day), (day, night)
    assert np.all(dusk < day) and np.all(dusk > night), (day, dusk, night)
    assert day.mean() - night.mean() > 30


def test_continuous_night_strength_darkens_monotonically(scenes):
    scene = scenes["source"][0]
    means = [render(scene, strength, noise_seed=0).mean() for strength in np.linspace(0, 1, 6)]
    assert means[0] > means[-1] + 30
    assert all(later < earlier + 2 for earlier, later in zip(means, means[1:])), means


def test_render_is_deterministic_for_a_noise_seed(scenes):
    scene = scenes["target"][1]
    np.testing.assert_array_equal(render(scene, 1.0, noise_seed=3), render(scene, 1.0, noise_seed=3))
    assert not np.array_equal(render(scene, 1.0, noise_seed=3), render(scene, 1.0, noise_seed=4))


def test_scene_is_deterministic_for_a_seed():
    first, second = sample_scene(11, "source", SIZE), sample_scene(11, "source", SIZE)
    np.testing.assert_array_equal(first.label, second.label)
    np.testing.assert_array_equal(render(first, 0.7), render(second, 0.7))
    assert not np.array_equal(first.label, sample_scene(12, "source", SIZE).label)


def test_night_adds_noise_and_lights(scenes):
    scene = scenes["source"][2]
    # Sensor noise grows with gain: two noise seeds differ more at night than by day (relative).
    day_spread = np.abs(render(scene, 0.0, noise_seed=1).astype(int) - render(scene, 0.0, noise_seed=2)).mean()
    night_spread = np.abs(render(scene, 1.0, noise_seed=1).astype(int) - render(scene, 1.0, noise_seed=2)).mean()
    night_mean = render(scene, 1.0).mean()
    assert night_spread / night_mean > day_spread / render(scene, 0.0).mean()
    # Emitters (lamps, windows, car lights) are off by day and on at night.
    assert scene.layers.emitters.max() > 0 and scene.layers.artificial.max() > 0


def test_cities_differ_in_colour_statistics(scenes):
    def mean_lab(city):
        return np.mean([rgb_to_lab(render(s, 0.0)).reshape(-1, 3).mean(0) for s in scenes[city]], axis=0)

    source, target = mean_lab("source"), mean_lab("target")
    # The target camera is warmer (b*) and the two cities differ clearly overall.
    assert target[2] - source[2] > 4.0, (source, target)
    assert np.linalg.norm(target - source) > 6.0, (source, target)
    assert SOURCE_CITY.camera != TARGET_CITY.camera and SOURCE_CITY.palette != TARGET_CITY.palette


def test_day_night_pair_shares_static_layout_but_not_pixels(scenes):
    agreements = []
    for seed, day in enumerate(scenes["target"]):
        night = paired_scene(day, seed=100 + seed)
        assert night.view != day.view
        static = np.isin(day.label, STATIC_CLASSES) & np.isin(night.label, STATIC_CLASSES)
        agreements.append((day.label == night.label)[static].mean())
        assert not np.array_equal(day.label, night.label)
        assert not np.array_equal(render(day, 0.0), render(night, 0.0))
    assert np.mean(agreements) > 0.75 and min(agreements) > 0.6, agreements


def test_pair_with_identity_view_keeps_static_pixels(scenes):
    day = scenes["target"][0]
    night = paired_scene(day, seed=5, view=View())
    static = np.isin(day.label, STATIC_CLASSES) & np.isin(night.label, STATIC_CLASSES)
    assert (day.label == night.label)[static].mean() > 0.99


def test_render_example_and_argument_errors():
    image, label = render_example("target", seed=2, night=0.5, size=(32, 64))
    assert image.shape == (32, 64, 3) and image.dtype == np.uint8 and label.shape == (32, 64)
    with pytest.raises(InputError, match="night"):
        render(sample_scene(0, "source", (32, 64)), 1.5)
    with pytest.raises(InputError, match="source"):
        get_city("mars")
    with pytest.raises(InputError, match="size"):
        sample_scene(0, "source", (8, 8))
