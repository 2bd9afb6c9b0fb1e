"""Joint transforms keep S_d/S_n/label (and T_d/T_n/label) pixel-aligned under random geometry."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from fixtures import assert_aligned, block_scene, night_of

from ccdistill.labels import IGNORE_INDEX
from ccdistill.data.transforms import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    EvalTransform,
    Normalization,
    SourcePairTransform,
    TargetPairTransform,
    image_to_tensor,
    sample_rng,
    tensor_to_image,
    to_tensors,
)
from ccdistill.errors import InputError

SEEDS = range(8)


def pair_sample(size=(48, 96), seed=0, ref_key="image_night"):
    day, train_ids = block_scene(seed, size)
    return {"image": day, ref_key: night_of(day), "label": train_ids, "name": "scene"}


@pytest.mark.parametrize("seed", SEEDS)
def test_source_pair_transform_keeps_day_night_and_label_aligned(seed):
    # Down to 0.75: blocks stay >= 6 px, wide enough to have interior pixels to compare.
    transform = SourcePairTransform(crop=(32, 32), scale=(0.75, 1.5), flip=True)
    out = transform.geometric(pair_sample(seed=seed), sample_rng(seed))
    assert out["image"].shape == (32, 32, 3) and out["image_night"].shape == (32, 32, 3)
    assert out["label"].shape == (32, 32)
    assert_aligned(out["image"], out["image_night"], out["label"])


@pytest.mark.parametrize("seed", SEEDS)
def test_target_pair_transform_keeps_day_night_and_label_aligned(seed):
    sample = pair_sample(size=(64, 96), seed=seed, ref_key="image_ref")
    transform = TargetPairTransform(scale=(0.9, 1.1), crop=(48, 48), size=(40, 40), flip=True)
    out = transform.geometric(sample, sample_rng(seed))
    assert out["image"].shape == (40, 40, 3) and out["image_ref"].shape == (40, 40, 3)
    assert out["label"].shape == (40, 40)
    # Here `image` is the day scene and image_ref its night version (roles do not matter for alignment).
    assert_aligned(out["image"], out["image_ref"], out["label"])


def test_small_images_are_padded_with_zero_and_ignore():
    sample = pair_sample(size=(16, 24))
    out = SourcePairTransform(crop=(32, 40), scale=(1.0, 1.0), flip=False).geometric(sample, sample_rng(0))
    assert out["image"].shape == (32, 40, 3)
    assert (out["label"][16:] == IGNORE_INDEX).all() and (out["label"][:, 24:] == IGNORE_INDEX).all()
    assert (out["image"][16:] == 0).all() and (out["image_night"][:, 24:] == 0).all()
    np.testing.assert_array_equal(out["label"][:16, :24], sample["label"])
    np.testing.assert_array_equal(out["image"][:16, :24], sample["image"])


def test_flip_happens_sometimes_and_never_when_disabled():
    sample = pair_sample(size=(32, 64))
    full = {"crop": (32, 64), "scale": (1.0, 1.0)}
    flipped = []
    for seed in range(20):
        out = SourcePairTransform(**full, flip=True).geometric(sample, sample_rng(seed))
        is_flipped = np.array_equal(out["label"], sample["label"][:, ::-1])
        assert is_flipped or np.array_equal(out["label"], sample["label"])
        np.testing.assert_array_equal(out["image"], sample["image"][:, ::-1] if is_flipped else sample["image"])
        flipped.append(is_flipped)
        unflipped = SourcePairTransform(**full, flip=False).geometric(sample, sample_rng(seed))
        np.testing.assert_array_equal(unflipped["label"], sample["label"])
    assert any(flipped) and not all(flipped)


def test_same_generator_seed_gives_same_augmentation_and_others_differ():
    sample = pair_sample()
    transform = SourcePairTransform(crop=(32, 32), scale=(0.5, 1.0))
    first = transform.geometric(sample, sample_rng(3, epoch=1, index=5))
    again = transform.geometric(sample, sample_rng(3, epoch=1, index=5))
    np.testing.assert_array_equal(first["image"], again["image"])
    others = [transform.geometric(sample, sample_rng(3, epoch=e, index=5))["image"] for e in range(2, 6)]
    assert any(not np.array_equal(first["image"], other) for other in others)


def test_random_transforms_require_a_generator():
    with pytest.raises(InputError, match="rng"):
        SourcePairTransform()(pair_sample())
    with pytest.raises(InputError, match="rng"):
        TargetPairTransform()(pair_sample(ref_key="image_ref"))


def test_eval_transform_resizes_images_only():
    sample = pair_sample(size=(32, 64), ref_key="image_ref")
    out = EvalTransform(size=(16, 32))(sample)
    assert out["image"].shape == (3, 16, 32) and out["image_ref"].shape == (3, 16, 32)
    assert out["label"].shape == (32, 64) and out["label"].dtype == torch.int64
    np.testing.assert_array_equal(out["label"].numpy(), sample["label"])
    native = EvalTransform()(sample)
    assert native["image"].shape == (3, 32, 64)
    assert native["name"] == "scene"


def test_tensors_are_imagenet_normalised_and_invertible():
    white = np.full((2, 3, 3), 255, np.uint8)
    tensor = image_to_tensor(white)
    expected = (1.0 - torch.tensor(IMAGENET_MEAN)) / torch.tensor(IMAGENET_STD)
    torch.testing.assert_close(tensor[:, 0, 0], expected)
    image, _ = block_scene(1)
    np.testing.assert_array_equal(tensor_to_image(image_to_tensor(image)), image)
    label = to_tensors({"label": np.array([[0, 255]], np.uint8)})["label"]
    assert label.dtype == torch.int64 and label.tolist() == [[0, 255]]


def test_mismatched_sizes_and_bad_arguments_are_rejected():
    sample = pair_sample()
    sample["label"] = sample["label"][:-1]
    with pytest.raises(InputError, match="differ in size"):
        SourcePairTransform(crop=(16, 16)).geometric(sample, sample_rng(0))
    with pytest.raises(InputError, match="scale"):
        SourcePairTransform(scale=(1.0, 0.5))
    with pytest.raises(InputError, match="crop"):
        TargetPairTransform(crop=(0, 10))


HALF = Normalization((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))  # EfficientNet-Lite0's


def test_tensors_follow_the_given_normalisation_and_invert_with_it():
    black_white = np.array([[[0, 0, 0], [255, 255, 255]]], np.uint8)
    tensor = image_to_tensor(black_white, HALF)
    torch.testing.assert_close(tensor[:, 0], torch.tensor([[-1.0, 1.0]] * 3))
    image, _ = block_scene(2)
    np.testing.assert_array_equal(tensor_to_image(image_to_tensor(image, HALF), HALF), image)


@pytest.mark.parametrize("make", [
    lambda n: SourcePairTransform(crop=(32, 32), normalization=n)(pair_sample(), sample_rng(0)),
    lambda n: TargetPairTransform(crop=(40, 40), size=(32, 32), normalization=n)(
        pair_sample(ref_key="image_ref"), sample_rng(0)),
    lambda n: EvalTransform(normalization=n)(pair_sample(ref_key="image_ref")),
], ids=["source", "target", "eval"])
def test_every_transform_normalises_every_image_with_its_normalisation(make):
    half, imagenet = make(HALF), make(Normalization())
    for key in ("image", "image_night", "image_ref"):
        if key in half:
            # Same pixels (same rng), only the normalisation differs: undo each with its own.
            np.testing.assert_array_equal(tensor_to_image(half[key], HALF), tensor_to_image(imagenet[key]))
            assert half[key].min() >= -1.0 and half[key].max() <= 1.0
            assert not torch.allclose(half[key], imagenet[key])


def test_a_bad_normalisation_is_named():
    with pytest.raises(InputError, match="normalization is a tuple"):
        EvalTransform(normalization=(0.5, 0.5, 0.5))
    with pytest.raises(InputError, match="std is .*positive"):
        Normalization((0.5, 0.5, 0.5), (0.5, 0.0, 0.5))
    with pytest.raises(InputError, match="mean is"):
        Normalization((0.5, 0.5), (0.5, 0.5, 0.5))
    with pytest.raises(InputError, match="mean is"):
        Normalization((float("nan"), 0.5, 0.5))


def test_normalisation_round_trips_through_checkpoint_meta():
    assert Normalization.from_meta(HALF.as_meta()) == HALF
    assert Normalization.from_meta({"arch": "tiny"}, default=HALF) == HALF  # files without one
    assert Normalization.from_meta({}) == Normalization(IMAGENET_MEAN, IMAGENET_STD)
