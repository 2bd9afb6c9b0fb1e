"""Joint transforms: one random geometry shared by every image of a sample and its label
(docs/TRAINING.md, "The GPU recipe").

A sample is a dict of numpy arrays: image keys (`image`, `image_ref`, `image_night`; H×W×3 uint8)
and optionally `label` (H×W uint8 trainIds, 255 ignored); other keys (`name`) pass through.
Every transform draws from an explicit `np.random.Generator`, so the trainer can derive one per
(seed, epoch, index) with `sample_rng` and resume a run with the same augmentations.

Each transform has two halves: `geometric(sample, rng)` (uint8 arrays in, uint8 arrays out, so a
translator can run between the crop and the tensor conversion) and `to_tensors`; `__call__` does both.
The tensor conversion normalises with the transform's `normalization`, the segmenter's own
(`Segmenter.normalization()`; ImageNet mean/std by default).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from PIL import Image

from ccdistill.errors import InputError
from ccdistill.labels import IGNORE_INDEX
# IMAGENET_MEAN / IMAGENET_STD are re-exported: they lived here before each architecture declared its own.
from ccdistill.normalization import IMAGENET, IMAGENET_MEAN, IMAGENET_STD, Normalization  # noqa: F401

# Keys that hold H×W×3 uint8 images; they are resampled bilinearly and padded with black.
IMAGE_KEYS: tuple[str, ...] = ("image", "image_ref", "image_night")
LABEL_KEY = "label"
IMAGE_PAD_VALUE = 0
FLIP_PROBABILITY = 0.5
MAX_UINT8 = 255.0
RNG_HINT = "pass rng, e.g. ccdistill.data.transforms.sample_rng(seed, epoch, index)"

Sample = dict[str, Any]


def sample_rng(seed: int = 0, epoch: int = 0, index: int = 0, stream: int = 0) -> np.random.Generator:
    """The generator for one sample: the same (seed, epoch, index, stream) always gives the same
    draws, whichever DataLoader worker loads the sample, so an interrupted run resumes exactly.
    `stream` keeps the source and target streams' draws independent at equal indices."""
    if min(seed, epoch, index, stream) < 0:
        raise InputError(f"sample_rng needs non-negative seed/epoch/index/stream, got {seed}/{epoch}/{index}/{stream}")
    return np.random.default_rng([seed, stream, epoch, index])


# ---------------------------------------------------------------------------------------------
# Array helpers (uint8 numpy in, uint8 numpy out)


def sample_size(sample: Sample) -> tuple[int, int]:
    """(H, W) shared by every image and the label of a sample; InputError if they differ."""
    sizes = {key: tuple(sample[key].shape[:2]) for key in (*IMAGE_KEYS, LABEL_KEY) if key in sample}
    if not sizes:
        raise InputError(f"a sample needs at least one of {IMAGE_KEYS + (LABEL_KEY,)}, got keys {sorted(sample)}")
    if len(set(sizes.values())) > 1:
        raise InputError(
            f"the images and label of sample {sample.get('name', '?')!r} differ in size {sizes}; "
            "a joint transform needs pixel-aligned arrays of one size"
        )
    return next(iter(sizes.values()))


def resize_sample(sample: Sample, size: tuple[int, int], keys: tuple[str, ...] | None = None) -> Sample:
    """Resize the image keys bilinearly and the label with nearest neighbour to `size` = (H, W).

    `keys` limits which entries are resized (EvalTransform resizes images only)."""
    height, width = size
    out = dict(sample)
    for key in keys if keys is not None else (*IMAGE_KEYS, LABEL_KEY):
        if key not in sample or tuple(sample[key].shape[:2]) == (height, width):
            continue
        # Labels must keep exact class ids, so never interpolate them.
        resample = Image.Resampling.NEAREST if key == LABEL_KEY else Image.Resampling.BILINEAR
        out[key] = np.asarray(Image.fromarray(sample[key]).resize((width, height), resample))
    return out


def pad_sample(sample: Sample, min_size: tuple[int, int]) -> Sample:
    """Pad bottom/right to at least `min_size` = (H, W): images with 0, the label with 255 (ignored),
    so padded pixels never count as a class."""
    height, width = sample_size(sample)
    pad_h, pad_w = max(0, min_size[0] - height), max(0, min_size[1] - width)
    if pad_h == 0 and pad_w == 0:
        return sample
    out = dict(sample)
    for key in IMAGE_KEYS:
        if key in sample:
            out[key] = np.pad(sample[key], ((0, pad_h), (0, pad_w), (0, 0)), constant_values=IMAGE_PAD_VALUE)
    if LABEL_KEY in sample:
        out[LABEL_KEY] = np.pad(sample[LABEL_KEY], ((0, pad_h), (0, pad_w)), constant_values=IGNORE_INDEX)
    return out


def crop_sample(sample: Sample, top: int, left: int, size: tuple[int, int]) -> Sample:
    """The (H, W) = `size` window at (top, left) of every image and the label."""
    out = dict(sample)
    for key in (*IMAGE_KEYS, LABEL_KEY):
        if key in sample:
            out[key] = np.ascontiguousarray(sample[key][top : top + size[0], left : left + size[1]])
    return out


def flip_sample(sample: Sample) -> Sample:
    """Mirror every image and the label left-right."""
    out = dict(sample)
    for key in (*IMAGE_KEYS, LABEL_KEY):
        if key in sample:
            out[key] = np.ascontiguousarray(sample[key][:, ::-1])
    return out


def random_crop(sample: Sample, crop: tuple[int, int], rng: np.random.Generator) -> Sample:
    """Pad to at least `crop` if needed, then take one random `crop` window shared by all arrays."""
    sample = pad_sample(sample, crop)
    height, width = sample_size(sample)
    top = int(rng.integers(0, height - crop[0] + 1))
    left = int(rng.integers(0, width - crop[1] + 1))
    return crop_sample(sample, top, left, crop)


def random_rescale(sample: Sample, scale: tuple[float, float], rng: np.random.Generator) -> Sample:
    """Resize everything by one factor drawn uniformly from `scale` (relative to the input size)."""
    height, width = sample_size(sample)
    factor = rng.uniform(scale[0], scale[1])
    size = (max(1, round(height * factor)), max(1, round(width * factor)))
    return resize_sample(sample, size)


def random_flip(sample: Sample, enabled: bool, rng: np.random.Generator) -> Sample:
    # Draw even when disabled so the rest of the stream's draws do not depend on the option.
    flip_now = rng.random() < FLIP_PROBABILITY
    return flip_sample(sample) if enabled and flip_now else sample


# ---------------------------------------------------------------------------------------------
# Tensor conversion


def image_to_tensor(image: np.ndarray, normalization: Normalization = IMAGENET) -> torch.Tensor:
    """H×W×3 uint8 -> 3×H×W float32 normalised with `normalization` (default ImageNet mean/std)."""
    mean = np.asarray(normalization.mean, dtype=np.float32)
    std = np.asarray(normalization.std, dtype=np.float32)
    normalised = (image.astype(np.float32) / MAX_UINT8 - mean) / std
    return torch.from_numpy(np.ascontiguousarray(normalised.transpose(2, 0, 1)))


def tensor_to_image(tensor: torch.Tensor, normalization: Normalization = IMAGENET) -> np.ndarray:
    """Inverse of `image_to_tensor`: 3×H×W normalised float -> H×W×3 uint8 (for figures); pass
    the `normalization` the tensor was made with."""
    mean = torch.tensor(normalization.mean, dtype=tensor.dtype, device=tensor.device).view(3, 1, 1)
    std = torch.tensor(normalization.std, dtype=tensor.dtype, device=tensor.device).view(3, 1, 1)
    image = ((tensor * std + mean) * MAX_UINT8).round().clamp(0, MAX_UINT8)
    return image.to(torch.uint8).permute(1, 2, 0).cpu().numpy()


def to_tensors(sample: Sample, normalization: Normalization = IMAGENET) -> Sample:
    """Images -> 3×H×W float tensors normalised with `normalization`, label -> H×W int64 tensor;
    other keys unchanged."""
    out = dict(sample)
    for key in IMAGE_KEYS:
        if key in sample:
            out[key] = image_to_tensor(sample[key], normalization)
    if LABEL_KEY in sample:
        out[LABEL_KEY] = torch.from_numpy(sample[LABEL_KEY].astype(np.int64))
    return out


# ---------------------------------------------------------------------------------------------
# The three joint transforms


def _check_size(name: str, value: tuple[int, int]) -> tuple[int, int]:
    if len(value) != 2 or min(value) < 1:
        raise InputError(f"{name} must be (H, W) with positive integers, got {value!r}")
    return int(value[0]), int(value[1])


def _check_scale(value: tuple[float, float]) -> tuple[float, float]:
    if len(value) != 2 or not 0 < value[0] <= value[1]:
        raise InputError(f"scale must be (low, high) with 0 < low <= high, got {value!r}")
    return float(value[0]), float(value[1])


def _check_normalization(value: object) -> Normalization:
    if not isinstance(value, Normalization):
        raise InputError(
            f"normalization is a {type(value).__name__}, but a ccdistill.normalization."
            "Normalization was expected, e.g. the segmenter's: build_segmenter(name).normalization()"
        )
    return value


class JointTransform:
    """Base: `geometric` on uint8 arrays, then `to_tensors` with `normalization`."""

    normalization: Normalization = IMAGENET

    def geometric(self, sample: Sample, rng: np.random.Generator | None = None) -> Sample:
        raise NotImplementedError

    def __call__(self, sample: Sample, rng: np.random.Generator | None = None) -> Sample:
        return to_tensors(self.geometric(sample, rng), self.normalization)


class SourcePairTransform(JointTransform):
    """Cityscapes training augmentation for S_d, S_n and the label: ONE random rescale
    (factor in `scale`), ONE `crop` = (H, W) window (padding 0 / 255 when the rescaled image is
    smaller), ONE horizontal flip (probability 0.5 when `flip`)."""

    def __init__(
        self,
        crop: tuple[int, int] = (512, 512),
        scale: tuple[float, float] = (0.5, 1.0),
        flip: bool = True,
        normalization: Normalization = IMAGENET,
    ) -> None:
        self.crop = _check_size("crop", crop)
        self.scale = _check_scale(scale)
        self.flip = flip
        self.normalization = _check_normalization(normalization)

    def geometric(self, sample: Sample, rng: np.random.Generator | None = None) -> Sample:
        if rng is None:
            raise InputError(f"{type(self).__name__} is random: {RNG_HINT}")
        sample = random_rescale(sample, self.scale, rng)
        sample = random_crop(sample, self.crop, rng)
        return random_flip(sample, self.flip, rng)

    def __repr__(self) -> str:
        return (f"SourcePairTransform(crop={self.crop}, scale={self.scale}, flip={self.flip}, "
                f"normalization={self.normalization!r})")


class TargetPairTransform(JointTransform):
    """Dark Zurich / ACDC training augmentation for T_d, T_n (and a T_n label if present): ONE
    rescale (factor in `scale`), ONE `crop` window, a resize to `size` = (H, W), ONE flip."""

    def __init__(
        self,
        scale: tuple[float, float] = (0.9, 1.1),
        crop: tuple[int, int] = (960, 960),
        size: tuple[int, int] = (512, 512),
        flip: bool = True,
        normalization: Normalization = IMAGENET,
    ) -> None:
        self.scale = _check_scale(scale)
        self.crop = _check_size("crop", crop)
        self.size = _check_size("size", size)
        self.flip = flip
        self.normalization = _check_normalization(normalization)

    def geometric(self, sample: Sample, rng: np.random.Generator | None = None) -> Sample:
        if rng is None:
            raise InputError(f"{type(self).__name__} is random: {RNG_HINT}")
        sample = random_rescale(sample, self.scale, rng)
        sample = random_crop(sample, self.crop, rng)
        sample = resize_sample(sample, self.size)
        return random_flip(sample, self.flip, rng)

    def __repr__(self) -> str:
        return (f"TargetPairTransform(scale={self.scale}, crop={self.crop}, size={self.size}, flip={self.flip}, "
                f"normalization={self.normalization!r})")


class EvalTransform(JointTransform):
    """Evaluation: resize the images to `size` = (H, W) (None keeps the native size) and leave the
    label at full resolution; evaluation upsamples logits to the label's size."""

    def __init__(self, size: tuple[int, int] | None = None, normalization: Normalization = IMAGENET) -> None:
        self.size = None if size is None else _check_size("size", size)
        self.normalization = _check_normalization(normalization)

    def geometric(self, sample: Sample, rng: np.random.Generator | None = None) -> Sample:
        if self.size is None:
            return sample
        return resize_sample(sample, self.size, keys=IMAGE_KEYS)

    def __repr__(self) -> str:
        return f"EvalTransform(size={self.size}, normalization={self.normalization!r})"
