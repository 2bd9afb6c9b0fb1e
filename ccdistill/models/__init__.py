"""Segmenters (M_d, M_n), the projection head and the CCDistill model (docs/METHOD.md, section 3).

    from ccdistill.models import build_segmenter, CCDistillModel
    segmenter = build_segmenter("deeplabv2_resnet101", num_classes=19, weights="imagenet")
    logits, features = segmenter(images)          # N×K×H×W, N×C×H/8×W/8
"""

from ccdistill.models.ccdistill_model import CCDistillModel, route_streams
from ccdistill.models.factory import SEGMENTER_NAMES, build_segmenter, input_normalization
from ccdistill.models.projection import ProjectionHead
from ccdistill.models.segmenter import Segmenter, SegmenterOutput

__all__ = [
    "CCDistillModel",
    "ProjectionHead",
    "SEGMENTER_NAMES",
    "Segmenter",
    "SegmenterOutput",
    "build_segmenter",
    "input_normalization",
    "route_streams",
]
