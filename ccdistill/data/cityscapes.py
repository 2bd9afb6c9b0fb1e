"""Cityscapes (S_d, the labelled source day stream) read from the official archive layout
(ccdistill.data.layouts.CITYSCAPES):

    <root>/leftImg8bit/{train,val,test}/<city>/<city>_<seq>_<frame>_leftImg8bit.png
    <root>/gtFine/{train,val}/<city>/<city>_<seq>_<frame>_gtFine_labelIds.png
                                                       (and _gtFine_labelTrainIds.png when generated)

labelTrainIds files are used when present, otherwise labelIds are mapped to trainIds on the fly.
ToyCity's source city is written in this layout too.
"""

from __future__ import annotations

from ccdistill.data.datasets import LayoutDataset, Transform
from ccdistill.data.io import PathLike
from ccdistill.data.layouts import CITYSCAPES


class CityscapesDataset(LayoutDataset):
    """Cityscapes images (S_d) with trainId labels: dicts with `image` (3×H×W float, normalised),
    `label` (H×W int64, 255 ignored; not for split="test") and `name` (the image file stem,
    e.g. 'aachen_000000_000019_leftImg8bit').

    Args:
        root: folder holding leftImg8bit/ and gtFine/.
        split: "train", "val" or "test".
        transform: joint transform called as transform(sample, rng); default: tensors at native size.
    """

    def __init__(self, root: PathLike, split: str = "train", transform: Transform | None = None) -> None:
        super().__init__(CITYSCAPES, root, split, transform)
