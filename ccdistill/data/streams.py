"""The four training streams as two datasets (docs/METHOD.md, section 1):

- `SourceStreams`: S_d (a Cityscapes image), S_n (the same image translated to night, pixel-aligned)
  and their shared label.
- `TargetStreams`: T_n (a target night frame) and T_d (its GPS-matched day frame).

Randomness comes from `sample_rng(seed, epoch, index, stream)` (`EpochSeeded`): the epoch, which
`StreamLoader` sets as each epoch starts, gives new augmentations, and the same (seed, epoch)
replays them exactly (resume).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ccdistill.data.datasets import SampleDataset
from ccdistill.data.io import PathLike, read_image
from ccdistill.data.sampling import EpochSeeded
from ccdistill.data.transforms import JointTransform, to_tensors
from ccdistill.data.translate import Translator
from ccdistill.errors import DataError, InputError
from ccdistill.normalization import IMAGENET, Normalization

# Stream ids mixed into the per-sample seed so S and T never share augmentation draws.
SOURCE_STREAM = 1
TARGET_STREAM = 2


# The loaders' sample keys -> the paper's stream symbols, in what the training streams yield:
# source batches {"S_d", "S_n", "label", "name"}, target batches {"T_n", "T_d", "label_T_n", "name"}.
SOURCE_KEYS: dict[str, str] = {"image": "S_d", "image_night": "S_n"}
TARGET_KEYS: dict[str, str] = {"image": "T_n", "image_ref": "T_d", "label": "label_T_n"}


def stream_keys(sample: dict[str, Any], keys: dict[str, str]) -> dict[str, Any]:
    """Rename a transformed sample's image keys to the stream symbols (other keys unchanged)."""
    return {keys.get(key, key): value for key, value in sample.items()}


class _Stream(EpochSeeded):
    """What the two stream datasets share: their epoch-seeded draws and their normalisation."""

    @property
    def normalization(self) -> Normalization:
        """The transform's normalisation (ImageNet mean/std without a transform)."""
        return getattr(self.transform, "normalization", IMAGENET)


class SourceStreams(_Stream):
    """S_d, S_n and the label: `{"S_d", "S_n", "label", "name"}` (the stream symbols), images as
    3×H×W floats normalised with the transform's `normalization`, label H×W int64.

    S_n = translator(S_d, reference, name, rng) on uint8 arrays, with `reference` a T_n image drawn
    at random from `night_references` (None when the list is empty). By default the translator
    runs AFTER the random rescale/crop/flip: translating a 512×512 crop costs a fraction of a full
    1024×2048 Cityscapes frame, and the crop is already pixel-aligned with the label. Set
    `translate_full_image=True` for translators that need the whole frame, e.g. a folder of
    precomputed night images matched by name (the crop is then applied to S_d and S_n together).

    Args:
        source: a labelled source dataset (e.g. CityscapesDataset); its `load(i)` is used.
        translator: the S_d -> S_n callable (see ccdistill.data.translate.build_translator).
        night_references: paths of T_n images used as style references.
        transform: a joint transform with `geometric` (e.g. SourcePairTransform); None = no
            augmentation, native size.
        seed: base seed of the per-sample generators.
        translate_full_image: translate before the crop instead of after it.
    """

    stream = SOURCE_STREAM

    def __init__(
        self,
        source: SampleDataset,
        translator: Translator,
        night_references: Sequence[PathLike] = (),
        transform: JointTransform | None = None,
        seed: int = 0,
        translate_full_image: bool = False,
    ) -> None:
        super().__init__(seed)
        if not source.has_labels:
            raise DataError(
                f"the source stream needs labels for every image, but {source!r} lacks some (a test split?)"
            )
        self.source = source
        self.translator = translator
        self.night_references = [Path(path) for path in night_references]
        self.transform = transform
        self.translate_full_image = translate_full_image

    def __len__(self) -> int:
        return len(self.source)

    def _geometric(self, sample: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
        return self.transform.geometric(sample, rng) if self.transform is not None else sample

    def _translate(self, sample: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
        reference = None
        if self.night_references:
            reference = read_image(self.night_references[int(rng.integers(len(self.night_references)))])
        night = self.translator(sample["image"], reference, sample["name"], rng)
        if night.shape != sample["image"].shape or night.dtype != np.uint8:
            raise InputError(
                f"translator {self.translator!r} returned {night.dtype} {night.shape} for {sample['name']!r}, "
                f"expected uint8 {sample['image'].shape} (pixel-aligned with S_d); a translator that reads "
                "full-size images from a folder needs translate_full_image=True"
            )
        return {**sample, "image_night": night}

    def __getitem__(self, index: int) -> dict[str, Any]:
        rng = self.rng(index)
        sample = self.source.load(index)
        if self.translate_full_image:
            sample = self._geometric(self._translate(sample, rng), rng)
        else:
            sample = self._translate(self._geometric(sample, rng), rng)
        return stream_keys(to_tensors(sample, self.normalization), SOURCE_KEYS)

    def __repr__(self) -> str:
        return (
            f"SourceStreams({len(self)} samples, {len(self.night_references)} night references, "
            f"transform={self.transform!r}, translate_full_image={self.translate_full_image})"
        )


class TargetStreams(_Stream):
    """T_n and T_d: `{"T_n", "T_d", "name"}` (+ `label_T_n` when the pair
    dataset has one, as ToyCity does), sharing one rescale/crop/resize/flip.

    Args:
        pairs: DarkZurichPairs or ACDCNight(split="train"), every sample with `image_ref`.
        transform: a joint transform (e.g. TargetPairTransform); None = tensors at native size.
        seed: base seed of the per-sample generators.
    """

    stream = TARGET_STREAM

    def __init__(self, pairs: SampleDataset, transform: JointTransform | None = None, seed: int = 0) -> None:
        super().__init__(seed)
        if not pairs.has_refs:
            raise DataError(
                f"the target stream needs a day image (T_d) for every night image (T_n), but {pairs!r} "
                "lacks some: check the corresp/ CSVs (Dark Zurich) or the rgb_anon/night/train_ref/ folder (ACDC)"
            )
        self.pairs = pairs
        self.transform = transform

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index: int) -> dict[str, Any]:
        sample = self.pairs.load(index)
        if self.transform is None:
            return stream_keys(to_tensors(sample, self.normalization), TARGET_KEYS)
        return stream_keys(self.transform(sample, self.rng(index)), TARGET_KEYS)

    def __repr__(self) -> str:
        return f"TargetStreams({len(self)} pairs, labels={self.pairs.has_labels}, transform={self.transform!r})"
