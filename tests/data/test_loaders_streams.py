"""The training streams (S_d, S_n, label; T_n, T_d) and build_datasets on a ToyCity-like tree."""

from __future__ import annotations

import shutil
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import torch
from fixtures import NIGHT_DIMMING, assert_aligned, make_acdc, make_cityscapes, make_toycity_like, night_of
from torch.utils.data import DataLoader

from ccdistill.config import DataConfig
from ccdistill.data import (
    ADAPTATION_SETUPS as DATASETS,
    ACDCNight,
    CityscapesDataset,
    DarkZurichEval,
    DarkZurichPairs,
    SourcePairTransform,
    SourceStreams,
    TargetPairTransform,
    TargetStreams,
    build_datasets,
    read_image,
)
from ccdistill.data.transforms import tensor_to_image
from ccdistill.errors import DataError, InputError


def dim_translator(day, reference, name, rng):
    """Stand-in for ccdistill.data.translate: a pixel-aligned 'night' version of S_d."""
    assert day.dtype == np.uint8 and day.ndim == 3
    return night_of(day)


class FolderTranslator:
    """Stand-in for translation='folder': reads the full-size night image named like S_d."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def __call__(self, day, reference, name, rng):
        return read_image(next(self.folder.rglob(f"{name}.png")))


@pytest.fixture
def toy_root(tmp_path):
    return make_toycity_like(tmp_path / "toycity")


def assert_streams_aligned(sample):
    label = sample["label"].numpy()
    assert_aligned(tensor_to_image(sample["S_d"]), tensor_to_image(sample["S_n"]), label)


def test_source_streams_translate_after_the_crop(toy_root):
    references = sorted((toy_root / "target/rgb_anon/train/night").rglob("*.png"))
    seen = []

    def recording(day, reference, name, rng):
        seen.append((day.shape, reference.shape, name))
        return night_of(day)

    streams = SourceStreams(
        CityscapesDataset(toy_root / "source"), recording, references, SourcePairTransform(crop=(24, 24), scale=(0.9, 1.0))
    )
    sample = streams[1]
    assert set(sample) == {"S_d", "S_n", "label", "name"}
    assert sample["S_d"].shape == sample["S_n"].shape == (3, 24, 24) and sample["label"].shape == (24, 24)
    # The translator saw the crop, one T_n reference, and the S_d file stem.
    assert seen == [((24, 24, 3), (32, 64, 3), "toysource_000001_000020_leftImg8bit")]
    assert_streams_aligned(sample)


def test_source_streams_translate_full_image_for_folder_translators(toy_root):
    source = CityscapesDataset(toy_root / "source")
    translator = FolderTranslator(toy_root / "source/leftImg8bit_night")
    transform = SourcePairTransform(crop=(24, 24), scale=(0.75, 1.0))
    streams = SourceStreams(source, translator, transform=transform, translate_full_image=True)
    for index in range(len(streams)):
        assert_streams_aligned(streams[index])
    after_crop = SourceStreams(source, translator, transform=transform)
    with pytest.raises(InputError, match="translate_full_image=True"):
        after_crop[0]


def test_stream_augmentation_depends_on_seed_epoch_and_index_only(toy_root):
    def build(seed):
        return SourceStreams(CityscapesDataset(toy_root / "source"), dim_translator,
                             transform=SourcePairTransform(crop=(16, 16), scale=(0.5, 1.0)), seed=seed)

    first, again = build(0), build(0)
    torch.testing.assert_close(first[2]["S_d"], again[2]["S_d"])
    reference = first[2]["S_d"]
    changed = []
    for epoch in range(1, 5):
        first.set_epoch(epoch)
        changed.append(not torch.equal(first[2]["S_d"], reference))
    assert any(changed)
    first.set_epoch(0)
    torch.testing.assert_close(first[2]["S_d"], reference)


def test_target_streams_pair_night_with_day_and_share_geometry(toy_root):
    pairs = DarkZurichPairs(toy_root / "target")
    streams = TargetStreams(pairs, TargetPairTransform(scale=(0.9, 1.1), crop=(28, 28), size=(20, 20)), seed=3)
    sample = streams[0]
    assert set(sample) == {"T_n", "T_d", "name", "label_T_n"}
    assert sample["T_n"].shape == sample["T_d"].shape == (3, 20, 20) and sample["label_T_n"].shape == (20, 20)
    night, day = tensor_to_image(sample["T_n"]), tensor_to_image(sample["T_d"])
    # The fixture's T_n is T_d dimmed, so shared geometry means night = day / 4 pixel by pixel.
    assert np.abs(night.astype(int) - day.astype(int) // NIGHT_DIMMING).max() <= 3


def test_target_streams_need_day_references(tmp_path):
    make_acdc(tmp_path, {"train": 2})
    shutil.rmtree(tmp_path / "rgb_anon/night/train_ref")

    with pytest.raises(DataError, match="T_d"):
        TargetStreams(ACDCNight(tmp_path, "train"))


def test_streams_batch_through_a_dataloader(toy_root):
    source = SourceStreams(CityscapesDataset(toy_root / "source"), dim_translator,
                           transform=SourcePairTransform(crop=(16, 16)))
    batch = next(iter(DataLoader(source, batch_size=2, num_workers=0)))
    assert batch["S_d"].shape == (2, 3, 16, 16) and batch["label"].dtype == torch.int64
    assert len(batch["name"]) == 2


# ---------------------------------------------------------------------------------------------
# build_datasets


@pytest.fixture
def translator_calls(monkeypatch):
    """Replace ccdistill.data.translate by a stand-in that records how build_datasets calls it."""
    calls = []
    module = types.ModuleType("ccdistill.data.translate")

    def build_translator(method="fda", beta=0.01, folder=None):
        calls.append((method, beta, folder))
        return dim_translator

    module.build_translator = build_translator
    module.REFERENCE_METHODS = ("fda", "lab")
    monkeypatch.setitem(sys.modules, "ccdistill.data.translate", module)
    return calls


def toy_config(root, **overrides):
    values = dict(dataset="toycity", root=str(root), source_crop=(16, 16), target_crop=(24, 24), target_size=(16, 16))
    return DataConfig(**{**values, **overrides})


def test_build_datasets_toycity(toy_root, translator_calls):
    bundle = build_datasets(toy_config(toy_root, translation="fda", translation_beta=0.05), seed=7)
    assert translator_calls == [("fda", 0.05, None)]
    assert len(bundle.source) == 4 and len(bundle.target) == 4 and len(bundle.evaluation) == 2
    assert len(bundle.source.night_references) == 4  # the T_n frames are FDA's style references
    source, target, evaluation = bundle.source[0], bundle.target[0], bundle.evaluation[0]
    assert source["S_d"].shape == source["S_n"].shape == (3, 16, 16)
    assert target["T_n"].shape == target["T_d"].shape == (3, 16, 16)
    assert evaluation["image"].shape == (3, 32, 64) and evaluation["label"].shape == (32, 64)
    assert isinstance(bundle.evaluation, DarkZurichEval) and bundle.source.seed == 7
    bundle.set_epoch(3)
    assert bundle.source.epoch == bundle.target.epoch == 3


def test_build_datasets_oracle_translation_reads_true_source_night(toy_root, translator_calls):
    bundle = build_datasets(toy_config(toy_root, translation="folder", eval_split="test", eval_size=(16, 32)))
    assert translator_calls == [("folder", 0.01, str(toy_root / "source/leftImg8bit_night/train"))]
    assert bundle.source.translate_full_image and bundle.source.night_references == []
    evaluation = bundle.evaluation[1]
    assert evaluation["image"].shape == (3, 16, 32) and evaluation["label"].shape == (32, 64)


def test_build_datasets_real_layouts(tmp_path, translator_calls):
    make_cityscapes(tmp_path / "cityscapes", {"train": 2})
    make_acdc(tmp_path / "acdc", {"train": 2, "val": 1})
    cfg = DataConfig(dataset="cityscapes_acdc", source_root=str(tmp_path / "cityscapes"),
                     target_root=str(tmp_path / "acdc"), translation="none", source_crop=(16, 16),
                     target_crop=(24, 24), target_size=(16, 16))
    bundle = build_datasets(cfg)
    assert len(bundle.source) == 2 and len(bundle.target) == 2 and len(bundle.evaluation) == 1
    assert bundle.target[1]["T_d"].shape == (3, 16, 16)
    with pytest.raises(InputError, match="data.target_root is empty"):
        build_datasets(DataConfig(dataset="cityscapes_darkzurich", source_root=str(tmp_path / "cityscapes")))
    with pytest.raises(InputError, match="translation_folder"):
        build_datasets(DataConfig(**{**cfg.__dict__, "translation": "folder"}))


def test_build_datasets_rejects_unknown_names(tmp_path, translator_calls):
    with pytest.raises(InputError) as error:
        build_datasets(DataConfig(dataset="gta5"))
    assert all(name in str(error.value) for name in DATASETS)
    with pytest.raises(InputError, match="eval_split"):
        build_datasets(DataConfig(eval_split="train"))
    with pytest.raises(DataError, match="ccdistill data toy"):
        build_datasets(DataConfig(root=str(tmp_path / "absent")))


@pytest.mark.parametrize("translation", ["fda", "lab", "folder"])
def test_build_datasets_with_the_real_translators(toy_root, translation):
    # beta 0.1: on a 24-pixel crop the default 0.01 window is empty and FDA would change nothing.
    cfg = toy_config(toy_root, translation=translation, translation_beta=0.1, source_crop=(24, 24), source_scale=(0.75, 1.0))
    bundle = build_datasets(cfg)
    sample = bundle.source[0]
    assert sample["S_n"].shape == sample["S_d"].shape == (3, 24, 24)
    if translation == "folder":  # the oracle: true night renderings, pixel-aligned after the crop
        assert_streams_aligned(sample)
    else:
        assert not torch.equal(sample["S_n"], sample["S_d"])
