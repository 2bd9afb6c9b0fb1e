"""S_d -> S_n translation: FDA, Lab transfer, relighting, folder lookup, the builder, offline runs."""

from __future__ import annotations

import argparse

import numpy as np
import pytest
from PIL import Image

from ccdistill.cli.data_translate import register as register_translate
from ccdistill.data.colour import lab_to_rgb, rgb_to_lab
from ccdistill.data.offline_translation import translate_folder
from ccdistill.data.translate import (
    FolderTranslation, build_translator, fda_translate, lab_statistics, lab_translate, low_frequency_mask, relight,
    sample_stem,
)
from ccdistill.errors import DataError, InputError
from ccdistill.toycity import render, sample_scene

SIZE = (64, 128)


@pytest.fixture(scope="module")
def pair() -> tuple[np.ndarray, np.ndarray]:
    """(source day image, target night reference of another size)."""
    day = render(sample_scene(1, "source", SIZE), 0.0)
    night = render(sample_scene(2, "target", (48, 80)), 1.0, noise_seed=2)
    return day, night


def _rng() -> np.random.Generator:
    return np.random.default_rng(0)


def test_lab_round_trip_is_nearly_lossless(pair):
    day, _ = pair
    assert np.abs(lab_to_rgb(rgb_to_lab(day)).astype(int) - day).max() <= 1
    white = rgb_to_lab(np.full((1, 1, 3), 255, np.uint8))[0, 0]
    np.testing.assert_allclose(white, [100.0, 0.0, 0.0], atol=0.05)


def test_every_method_returns_uint8_of_the_day_shape(pair):
    day, reference = pair
    for method in ("fda", "lab", "relight", "none"):
        night = build_translator(method)(day, reference, "x_leftImg8bit", _rng())
        assert night.shape == day.shape and night.dtype == np.uint8, method


def test_fda_with_zero_beta_returns_the_input(pair):
    day, reference = pair
    assert not low_frequency_mask(SIZE, 0.0).any()
    np.testing.assert_array_equal(fda_translate(day, reference, beta=0.0), day)


def test_fda_takes_the_reference_brightness_and_keeps_structure(pair):
    day, reference = pair
    night = fda_translate(day, reference, beta=0.05)
    # The DC amplitude is swapped: the mean follows the (resized) reference ...
    assert abs(night.mean() - reference.mean()) < abs(day.mean() - reference.mean()) / 2
    # ... while high frequencies (edges) are the day image's.
    def edges(image):
        grey = image.astype(float).mean(axis=2)
        return np.abs(np.diff(grey, axis=1)).ravel()
    assert np.corrcoef(edges(day), edges(night))[0, 1] > 0.8
    with pytest.raises(InputError, match="beta"):
        fda_translate(day, reference, beta=0.9)


def test_lab_transfer_matches_reference_statistics(pair):
    day, reference = pair
    night = lab_translate(day, reference)
    mean, std = lab_statistics(night)
    ref_mean, ref_std = lab_statistics(reference)
    day_mean, day_std = lab_statistics(day)
    # Exact up to gamut clipping: dark saturated night colours leave the sRGB gamut a little.
    np.testing.assert_allclose(mean, ref_mean, atol=3.0)
    np.testing.assert_allclose(std, ref_std, rtol=0.2, atol=1.0)
    assert np.linalg.norm(mean - ref_mean) < 0.1 * np.linalg.norm(day_mean - ref_mean)
    assert np.linalg.norm(std - ref_std) < 0.3 * np.linalg.norm(day_std - ref_std)
    # Without clipping (a mid-grey reference) the statistics match almost exactly.
    grey = np.clip(reference.astype(int) // 2 + 64, 0, 255).astype(np.uint8)
    np.testing.assert_allclose(lab_statistics(lab_translate(day, grey))[0], lab_statistics(grey)[0], atol=1.0)


def test_relight_darkens_adds_noise_and_is_seeded(pair):
    day, _ = pair
    night = relight(day, np.random.default_rng(1))
    assert night.mean() < 0.6 * day.mean()
    np.testing.assert_array_equal(night, relight(day, np.random.default_rng(1)))
    assert not np.array_equal(night, relight(day, np.random.default_rng(2)))
    np.testing.assert_array_equal(relight(day, noise=0.0), relight(day, np.random.default_rng(5), noise=0.0))
    warm = relight(day, noise=0.0, temperature=1.0).astype(float)
    assert (warm[..., 0] - warm[..., 2]).mean() > 0
    with pytest.raises(InputError):
        relight(day, gamma=0.0)


def test_builder_errors_and_identity(pair):
    day, reference = pair
    with pytest.raises(InputError, match="fda, lab, relight, folder, none"):
        build_translator("cyclegan")
    with pytest.raises(InputError, match="reference"):
        build_translator("fda")(day, None, "x", _rng())
    with pytest.raises(InputError, match="folder"):
        build_translator("folder")
    assert build_translator("none")(day, reference, "x", _rng()) is day
    with pytest.raises(InputError, match="uint8"):
        build_translator("lab")(day.astype(float), reference, "x", _rng())


def test_sample_stem_strips_dataset_suffixes():
    assert sample_stem("aachen_000000_000019_leftImg8bit.png") == "aachen_000000_000019"
    assert sample_stem("aachen_000000_000019_leftImg8bit") == "aachen_000000_000019"
    assert sample_stem("GOPR0356_frame_000321_ref_rgb_anon.png") == "GOPR0356_frame_000321"
    assert sample_stem("x_fake_B.JPG") == "x"


def test_folder_translation_finds_by_stem_and_names_the_missing_one(tmp_path, pair):
    day, reference = pair
    (tmp_path / "night/sub").mkdir(parents=True)
    Image.fromarray(reference).save(tmp_path / "night/sub/a_000001_000019_leftImg8bit.png")
    Image.fromarray(day[::-1]).save(tmp_path / "night/b_000002_000019_fake_B.png")
    translator = build_translator("folder", folder=str(tmp_path / "night"))
    assert isinstance(translator, FolderTranslation)
    first = translator(day, None, "a_000001_000019_leftImg8bit", _rng())
    assert first.shape == day.shape  # resized to the day image
    np.testing.assert_array_equal(translator(day, None, "b_000002_000019", _rng()), day[::-1])
    with pytest.raises(DataError, match=r"night has no image for stem .c_000003_000019"):
        translator(day, None, "c_000003_000019_leftImg8bit", _rng())
    with pytest.raises(DataError, match="does not exist"):
        FolderTranslation(tmp_path / "nowhere")


@pytest.fixture
def folders(tmp_path):
    source = tmp_path / "leftImg8bit/train"
    for city, index in (("aachen", 0), ("bonn", 1), ("bonn", 2)):
        image = render(sample_scene(index, "source", (32, 64)), 0.0)
        path = source / city / f"{city}_{index:06d}_000019_leftImg8bit.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(path)
    references = tmp_path / "night"
    for index in range(3):
        path = references / "SEQ" / f"SEQ_frame_{index:06d}_rgb_anon.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(render(sample_scene(index, "target", (40, 70)), 1.0)).save(path)
    return source, references, tmp_path / "out"


def test_translate_folder_keeps_relative_paths_and_is_deterministic(folders):
    source, references, out = folders
    written = translate_folder(source, references, out, method="lab", seed=3, progress=False)
    expected = sorted(out / p.relative_to(source) for p in source.rglob("*_leftImg8bit.png"))
    assert sorted(written) == expected and all(p.is_file() for p in expected)
    first = [np.asarray(Image.open(p)) for p in expected]
    assert all(image.shape == (32, 64, 3) for image in first)
    with pytest.raises(DataError, match="already exist"):
        translate_folder(source, references, out, method="lab", seed=3, progress=False)
    translate_folder(source, references, out, method="lab", seed=3, progress=False, force=True)
    np.testing.assert_array_equal(first[0], np.asarray(Image.open(expected[0])))
    assert not list(out.rglob(".*partial"))


def test_translate_folder_errors(folders, tmp_path):
    source, references, out = folders
    with pytest.raises(DataError, match="reference"):
        translate_folder(source, None, out, method="fda", progress=False)
    with pytest.raises(InputError, match="source folder"):
        translate_folder(source, references, source, method="fda", progress=False)
    with pytest.raises(DataError, match="leftImg8bit"):
        translate_folder(references, references, out, method="relight", progress=False)
    with pytest.raises(InputError, match="method"):
        translate_folder(source, references, out, method="folder", progress=False)


def test_translate_cli(folders, capsys):
    source, references, out = folders
    parser = argparse.ArgumentParser()
    register_translate(parser.add_subparsers(dest="data_command"))
    args = parser.parse_args(["translate", "--method", "fda", "--source", str(source), "--reference",
                              str(references), "--out", str(out), "--beta", "0.02", "--quiet"])
    assert args.func(args) == 0
    assert len(list(out.rglob("*_leftImg8bit.png"))) == 3
    assert "translated 3 images" in capsys.readouterr().out
