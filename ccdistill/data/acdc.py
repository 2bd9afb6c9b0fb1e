"""ACDC night (T_n and T_d for the Cityscapes -> ACDC setting; night val/test for evaluation),
read from the official archives rgb_anon_trainvaltest.zip and gt_trainval.zip
(ccdistill.data.layouts.ACDC):

    <root>/rgb_anon/night/{train,val,test}/<SEQ>/<stem>_rgb_anon.png          T_n
    <root>/rgb_anon/night/{train,val,test}_ref/<SEQ>/<stem>_rgb_ref_anon.png  T_d (day reference)
    <root>/gt/night/{train,val}/<SEQ>/<stem>_gt_labelTrainIds.png             (test labels withheld)
"""

from __future__ import annotations

from ccdistill.data.datasets import LayoutDataset, Transform
from ccdistill.data.io import PathLike
from ccdistill.data.layouts import ACDC

# The layout's file kinds by split (the submission writer lists the test images with image_kind).
image_kind, ref_kind, label_kind = ACDC.image_kind, ACDC.ref_kind, ACDC.label_kind


class ACDCNight(LayoutDataset):
    """ACDC night images: dicts with `image` (night), `image_ref` (the day reference, when the
    split's _ref folder exists), `label` (when gt/night/<split>/ exists: train and val; test
    labels are withheld) and `name` (image file stem).

    Args:
        root: folder holding rgb_anon/ and gt/.
        split: "train" (T_n with T_d), "val" or "test".
        transform: joint transform called as transform(sample, rng); default: tensors at native size.
        images_only: list the night images alone, without references or labels, and require
            neither (server submissions need nothing else).
    """

    def __init__(self, root: PathLike, split: str = "train", transform: Transform | None = None,
                 images_only: bool = False) -> None:
        super().__init__(ACDC, root, split, transform, images_only)
