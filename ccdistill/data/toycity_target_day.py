"""ToyCity's labelled target-day split: the val/test day references with their own labels.

The on-disk benchmark labels only the night images of the target city (Dark Zurich's layout),
and a night label does not fit its day reference (the camera moved, the traffic changed).
ToyCity is procedural, so the day label is re-sampled from the manifest's seed and shift
settings: every file is a pure function of (seed, split, index) and those settings. With it, the source-only model's score on target day
measures the inherent (dataset) shift and target day vs target night the illumination shift.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ccdistill.data.darkzurich import EVAL_SPLITS, IMAGE_SUFFIX, DarkZurichEval
from ccdistill.data.datasets import SampleDataset, Transform
from ccdistill.data.io import PathLike, read_image
from ccdistill.errors import DataError, InputError
from ccdistill.toycity.generate import TARGET_SEQUENCES, read_manifest, target_day_scene
from ccdistill.toycity.shift import ShiftSettings

FRAME_MARK = "_frame_"


def frame_index(name: str) -> int:
    """'TOY0004_frame_000012_rgb_anon' (or the file name) -> 12."""
    stem = name.removesuffix(".png").removesuffix(IMAGE_SUFFIX.removesuffix(".png"))
    try:
        return int(stem.rsplit(FRAME_MARK, 1)[1][:6])
    except (IndexError, ValueError):
        raise DataError(f"ToyCity image name {name!r} has no '{FRAME_MARK}<6 digits>' frame number") from None


class ToyCityTargetDay(SampleDataset):
    """Target-day images of a ToyCity val/test split with their day labels: dicts with `image`
    (the day reference, 3×H×W normalised), `label` (H×W int64 trainIds of that day image) and
    `name`, like every evaluation dataset.

    Args:
        root: the ToyCity root (holding manifest.json, source/ and target/).
        split: "val" or "test".
        transform: joint transform called as transform(sample, rng), e.g. the evaluation
            dataset's own `EvalTransform` (default: tensors at native size).
    """

    def __init__(self, root: PathLike, split: str = "test", transform: Transform | None = None) -> None:
        if split not in EVAL_SPLITS:
            raise InputError(f"ToyCity target-day split must be one of {EVAL_SPLITS}, got {split!r}")
        self.root = Path(root)
        manifest = read_manifest(self.root)
        if manifest is None:
            raise DataError(
                f"{self.root} holds no ToyCity manifest.json; target-day labels are re-sampled from the "
                f"manifest's seed. Generate ToyCity with `ccdistill data toy --root {self.root}`.")
        # Not `self.seed`: SampleDataset uses that name for the augmentation seed.
        self.toycity_seed = int(manifest["seed"])
        self.size = (int(manifest["size"][0]), int(manifest["size"][1]))
        self.shift = ShiftSettings.from_manifest(manifest)  # the target city the day scenes come from
        night = DarkZurichEval(self.root / "target", split)
        if not night.has_refs:
            raise DataError(f"ToyCity {split} split under {self.root / 'target'} has no day references "
                            f"(rgb_anon/{split}_ref/day/{TARGET_SEQUENCES[split]}_ref/); regenerate ToyCity.")
        self.split = split
        super().__init__(night.samples, transform)

    def load(self, index: int) -> dict[str, Any]:
        files = self.samples[index]
        image = read_image(files.image_ref)
        label = target_day_scene(self.toycity_seed, self.split, frame_index(files.image.name), self.size,
                                 self.shift).label
        if label.shape != image.shape[:2]:
            raise DataError(f"{files.image_ref} is {image.shape[1]}x{image.shape[0]} but the manifest of "
                            f"{self.root} says {self.size[1]}x{self.size[0]}; regenerate ToyCity.")
        return {"image": image, "label": label, "name": files.image_ref.stem}
