"""Nighttime Driving test set (Dai & Van Gool, 50 coarsely labelled night images), read from
the official NighttimeDrivingTest.zip layout:

    <root>/leftImg8bit/test/night/<NN>_frame_<4 digits>_leftImg8bit.png
    <root>/gtCoarse_daytime_trainvaltest/test/night/<same stem>_gtCoarse_labelTrainIds.png
"""

from __future__ import annotations

from pathlib import Path

from ccdistill.data.io import (
    FileKind, PathLike, SampleDataset, SampleFiles, Transform, require_all, sample_files, strip_suffix,
)

ARCHIVE = "NighttimeDrivingTest.zip"
DOWNLOAD_HINT = "download from Dai & Van Gool's page http://people.ee.ethz.ch/~daid/NightDriving/"
EXPECTED_IMAGES: dict[str, int] = {"test": 50}

IMAGE_SUFFIX = "_leftImg8bit.png"
TRAIN_IDS_SUFFIX = "_gtCoarse_labelTrainIds.png"
LABEL_IDS_SUFFIX = "_gtCoarse_labelIds.png"


def image_kind() -> FileKind:
    return FileKind(
        what="Nighttime Driving test images",
        folder="leftImg8bit/test/night",
        glob=f"*{IMAGE_SUFFIX}",
        pattern=f"leftImg8bit/test/night/<NN>_frame_<4 digits>{IMAGE_SUFFIX}",
        archive=ARCHIVE,
        hint=DOWNLOAD_HINT,
    )


def label_kind() -> FileKind:
    return FileKind(
        what="Nighttime Driving test labels",
        folder="gtCoarse_daytime_trainvaltest/test/night",
        glob=f"*{TRAIN_IDS_SUFFIX}",
        pattern=f"gtCoarse_daytime_trainvaltest/test/night/<NN>_frame_<4 digits>{TRAIN_IDS_SUFFIX}",
        archive=ARCHIVE,
        hint=DOWNLOAD_HINT,
    )


def label_path(root: PathLike, image: Path, suffix: str = TRAIN_IDS_SUFFIX) -> Path:
    stem = strip_suffix(image.name, IMAGE_SUFFIX)
    return Path(root) / label_kind().folder / f"{stem}{suffix}"


def find_samples(root: PathLike) -> list[SampleFiles]:
    """The test images, sorted, with their coarse labels where they exist."""
    samples = []
    for image in image_kind().list(root):
        samples.append(sample_files(image, [(label_path(root, image), "trainIds"),
                                            (label_path(root, image, LABEL_IDS_SUFFIX), "labelIds")]))
    return samples


class NighttimeDrivingTest(SampleDataset):
    """Nighttime Driving test images with coarse trainId labels: dicts with `image`, `label`
    (H×W int64, 255 ignored) and `name` (image file stem).

    Args:
        root: folder holding leftImg8bit/ and gtCoarse_daytime_trainvaltest/.
        transform: joint transform called as transform(sample, rng); default: tensors at native size.
    """

    def __init__(self, root: PathLike, transform: Transform | None = None) -> None:
        self.root, self.split = Path(root), "test"
        samples = find_samples(root)
        require_all(samples, "label", label_kind(), lambda f: label_path(self.root, f.image))
        super().__init__(samples, transform)
