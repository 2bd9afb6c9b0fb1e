"""The Dataset base every loader shares (`SampleDataset`) and the loader any `DatasetLayout`
gives (`LayoutDataset`): the named loaders (CityscapesDataset, ACDCNight, DarkZurichEval,
NighttimeDrivingTest) are it with their table entry.

Every failure raises `DataError` naming the file or folder, what was expected (the path pattern
and the official archive it comes from) and what to do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from ccdistill.data.io import PathLike, SampleFiles, load_sample
from ccdistill.data.layouts import DatasetLayout, FileKind, strip_suffix
from ccdistill.data.sampling import EpochSeeded
from ccdistill.data.transforms import EvalTransform

Transform = Callable[[dict[str, Any], np.random.Generator], dict[str, Any]]


class SampleDataset(EpochSeeded):
    """A list of `SampleFiles` served as dicts: `load(i)` gives uint8 arrays, `dataset[i]` gives
    `transform(load(i), rng)` with rng = sample_rng(seed, epoch, i) (default transform: tensors at
    native size, ImageNet-normalised; pass EvalTransform(normalization=...) for another
    segmenter's mean/std; `label` H×W int64)."""

    def __init__(self, samples: Sequence[SampleFiles], transform: Transform | None = None, seed: int = 0) -> None:
        super().__init__(seed)
        self.samples = list(samples)
        self.transform = transform if transform is not None else EvalTransform()

    def __len__(self) -> int:
        return len(self.samples)

    def load(self, index: int) -> dict[str, Any]:
        return load_sample(self.samples[index])

    def __getitem__(self, index: int) -> dict[str, Any]:
        return self.transform(self.load(index), self.rng(index))

    @property
    def has_labels(self) -> bool:
        return bool(self.samples) and all(files.label is not None for files in self.samples)

    @property
    def has_refs(self) -> bool:
        return bool(self.samples) and all(files.image_ref is not None for files in self.samples)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self)} samples, labels={self.has_labels}, refs={self.has_refs})"


# ---------------------------------------------------------------------------------------------
# Finding the files of a layout's split


def find_label(candidates: Sequence[tuple[Path, str]]) -> tuple[Path, str] | None:
    """The first (path, encoding) that exists: trainIds files are listed before labelIds ones."""
    for path, kind in candidates:
        if path.is_file():
            return path, kind
    return None


def sample_files(image: Path, label_candidates: Sequence[tuple[Path, str]] = (),
                 image_ref: Path | None = None) -> SampleFiles:
    """One sample's files: `image`, its day reference and the first existing label candidate."""
    label = find_label(label_candidates)
    return SampleFiles(name=image.stem, image=image, image_ref=image_ref,
                       label=label[0] if label else None, label_kind=label[1] if label else "trainIds")


def require_all(samples: Sequence[SampleFiles], field: str, kind: FileKind,
                expected_path: Callable[[SampleFiles], Path]) -> None:
    """Raise for the first sample whose `field` ('label' or 'image_ref') was not found.

    Used when a split must have them, or when some exist: a split with partial labels or
    references would break batching and evaluation silently."""
    for files in samples:
        if getattr(files, field) is None:
            raise kind.missing(expected_path(files), files.image)


def find_ref(layout: DatasetLayout, root: PathLike, split: str, image: Path) -> Path | None:
    """The day reference of `image`, or None when it has none."""
    expected = layout.path("ref", split, root, image)
    if expected.is_file():
        return expected
    if not layout.files("ref").extra_tokens or not expected.parent.is_dir():
        return None
    # Some released test references carry extra tokens between the stem and the suffix.
    stem = strip_suffix(image.name, layout.image.suffix)
    matches = sorted(expected.parent.glob(f"{stem}_*{layout.image.suffix}"))
    return matches[0] if matches else None


def find_samples(layout: DatasetLayout, root: PathLike, split: str) -> list[SampleFiles]:
    """The images of `split`, sorted, with their day references and labels where they exist.

    DataError if the image folder is missing or empty."""
    layout.check_split(split)
    labelled = layout.has_labels(split)
    return [
        sample_files(image, layout.label_candidates(root, split, image) if labelled else [],
                     image_ref=find_ref(layout, root, split, image) if layout.ref is not None else None)
        for image in layout.image_kind(split).list(root)
    ]


def require_found(layout: DatasetLayout, root: PathLike, split: str, samples: Sequence[SampleFiles]) -> None:
    """DataError naming the first missing day reference (when the split has any) or label (when
    the split must have them, or has some)."""
    if layout.ref is not None and layout.ref_kind(split).exists(root):
        require_all(samples, "image_ref", layout.ref_kind(split), lambda f: layout.path("ref", split, root, f.image))
    labels = layout.label_kind(split)
    if layout.has_labels(split) and (split in layout.must_label or labels.exists(root)):
        require_all(samples, "label", labels, lambda f: layout.path("label", split, root, f.image))


class LayoutDataset(SampleDataset):
    """One split of a dataset described by `layout`: dicts with `image` (3×H×W float,
    normalised), `image_ref` (its day reference, when the layout has them), `label` (H×W int64,
    255 ignored, when the split has labels) and `name` (the image file stem).

    Args:
        layout: the dataset's `DatasetLayout` (e.g. ccdistill.data.layouts.ACDC).
        root: the folder the dataset's archives were extracted into.
        split: one of `layout.splits`.
        transform: joint transform called as transform(sample, rng); default: tensors at native size.
        images_only: list the images alone, without references or labels, and require neither
            (server submissions need nothing else).
    """

    def __init__(self, layout: DatasetLayout, root: PathLike, split: str, transform: Transform | None = None,
                 images_only: bool = False) -> None:
        self.layout, self.root, self.split = layout, Path(root), split
        samples = find_samples(layout, self.root, split)
        if images_only:
            samples = [SampleFiles(files.name, files.image) for files in samples]
        else:
            require_found(layout, self.root, split, samples)
        super().__init__(samples, transform)
