"""The CCDistill losses (docs/METHOD.md, sections 4-7); docs/METHOD.md maps each symbol to its function.

* content.py — Cor(a, b), L_CDC
* js.py — L_JS, the Jensen–Shannon term of CDC
* cosine_maps.py — the pixel-level cosine tools of the notebooks (cosine maps)
* style.py — Gram matrices G, their differences Δ, Cor_G, L_CDS
* pseudo.py — pseudo labels for T_n from P_Td, and the misalignment-tolerant loss
* segmentation.py — L_seg (cross-entropy)
* total.py — the weighted sum with the warm-up, `ccdistill_loss`
"""

from ccdistill.losses.content import cdc_loss, content_correlation, pool_embeddings
from ccdistill.losses.cosine_maps import cosine_map, feature_cell, pixel_correlation, pixel_cosine_map, upsample_map
from ccdistill.losses.js import js_divergence, js_loss
from ccdistill.losses.pseudo import allowed_classes, pseudo_labels, tolerant_pseudo_loss
from ccdistill.losses.segmentation import segmentation_loss
from ccdistill.losses.style import cds_loss, gram_difference, gram_matrix, style_correlation
from ccdistill.streams import STREAMS
from ccdistill.losses.total import (
    DISTILLATION_TERMS,
    TERMS,
    LossOptions,
    LossWeights,
    ccdistill_loss,
    distillation_ramp,
)

__all__ = [
    "DISTILLATION_TERMS",
    "STREAMS",
    "TERMS",
    "LossOptions",
    "LossWeights",
    "allowed_classes",
    "ccdistill_loss",
    "cdc_loss",
    "cds_loss",
    "content_correlation",
    "cosine_map",
    "distillation_ramp",
    "feature_cell",
    "gram_difference",
    "gram_matrix",
    "js_divergence",
    "js_loss",
    "pixel_correlation",
    "pixel_cosine_map",
    "pool_embeddings",
    "pseudo_labels",
    "segmentation_loss",
    "style_correlation",
    "tolerant_pseudo_loss",
    "upsample_map",
]
