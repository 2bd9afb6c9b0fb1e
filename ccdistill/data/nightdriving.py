"""Nighttime Driving test set (Dai & Van Gool, 50 coarsely labelled night images), read from
the official NighttimeDrivingTest.zip layout (ccdistill.data.layouts.NIGHTTIME_DRIVING):

    <root>/leftImg8bit/test/night/<NN>_frame_<4 digits>_leftImg8bit.png
    <root>/gtCoarse_daytime_trainvaltest/test/night/<same stem>_gtCoarse_labelTrainIds.png
"""

from __future__ import annotations

from ccdistill.data.datasets import LayoutDataset, Transform
from ccdistill.data.io import PathLike
from ccdistill.data.layouts import NIGHTTIME_DRIVING


class NighttimeDrivingTest(LayoutDataset):
    """Nighttime Driving test images with coarse trainId labels: dicts with `image`, `label`
    (H×W int64, 255 ignored) and `name` (image file stem).

    Args:
        root: folder holding leftImg8bit/ and gtCoarse_daytime_trainvaltest/.
        transform: joint transform called as transform(sample, rng); default: tensors at native size.
    """

    def __init__(self, root: PathLike, transform: Transform | None = None) -> None:
        super().__init__(NIGHTTIME_DRIVING, root, "test", transform)
