"""Input normalisation: the per-channel mean and std a network's pretrained weights expect.

Each segmenter declares its own (`Segmenter.input_mean`, `Segmenter.input_std`); the data
pipeline, inference and `deploy.pt` take it from there. Kept apart from `ccdistill.data` and
`ccdistill.models` so both can use it without importing each other.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from ccdistill.errors import InputError

RGB = tuple[float, float, float]

# torchvision's ImageNet weights (and the networks trained from scratch here, by convention).
IMAGENET_MEAN: RGB = (0.485, 0.456, 0.406)
IMAGENET_STD: RGB = (0.229, 0.224, 0.225)


def _rgb(value: object, name: str, positive: bool) -> RGB:
    try:
        values = tuple(float(v) for v in value)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        values = ()
    if len(values) != 3 or not all(math.isfinite(v) for v in values) or (
        positive and min(values) <= 0
    ):
        bound = "positive " if positive else ""
        raise InputError(
            f"{name} is {value!r}, but three finite {bound}numbers (R, G, B, for images in "
            f"[0, 1]) were expected, e.g. {list(IMAGENET_MEAN if name == 'mean' else IMAGENET_STD)}."
        )
    return values  # type: ignore[return-value]


@dataclass(frozen=True)
class Normalization:
    """x = (rgb / 255 − mean) / std, per channel, with rgb the uint8 image.

    mean, std: (R, G, B) for images scaled to [0, 1]; std must be positive.
    """

    mean: RGB = IMAGENET_MEAN
    std: RGB = IMAGENET_STD

    def __post_init__(self) -> None:
        object.__setattr__(self, "mean", _rgb(self.mean, "mean", positive=False))
        object.__setattr__(self, "std", _rgb(self.std, "std", positive=True))

    def as_meta(self) -> dict[str, list[float]]:
        """{"mean": [...], "std": [...]}: how `deploy.pt`'s meta records it."""
        return {"mean": list(self.mean), "std": list(self.std)}

    @classmethod
    def from_meta(cls, meta: Mapping[str, object], default: Normalization | None = None) -> Normalization:
        """The normalisation a checkpoint's meta records; `default` when it records none (files
        written before meta carried one); InputError when it records a malformed one."""
        if "mean" not in meta and "std" not in meta:
            return default if default is not None else cls()
        return cls(meta.get("mean"), meta.get("std"))  # type: ignore[arg-type]

    def __repr__(self) -> str:
        return f"Normalization(mean={list(self.mean)}, std={list(self.std)})"


IMAGENET = Normalization(IMAGENET_MEAN, IMAGENET_STD)

