"""Pseudo labels for target night from the paired day prediction, and the loss on them
(docs/METHOD.md, section 6).

T_d and T_n show the same place at two times, so the day prediction P_Td (better lit, so more
reliable) can supervise the night prediction P_Tn. The pair is only coarsely aligned — small
camera offsets, cars and people that moved — so dynamic classes are ignored (DANNet's rule),
and the loss can tolerate a small misalignment.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ccdistill.errors import InputError
from ccdistill.labels import DYNAMIC_CLASSES, IGNORE_INDEX
from ccdistill.losses._checks import (
    as_float,
    check_choice,
    check_floating,
    check_ndim,
    check_positive_int,
    check_unit_interval,
    full_precision,
)
from ccdistill.losses.segmentation import check_logits_and_label, resize_logits

PSEUDO_RULES = ("static", "confidence", "fusion")


@torch.no_grad()
def pseudo_labels(
    logits_Td: Tensor,
    rule: str = "static",
    logits_Tn: Tensor | None = None,
    confidence_threshold: float = 0.9,
    day_weight: float = 0.8,
    night_weight: float = 0.2,
    ignore_index: int = IGNORE_INDEX,
) -> Tensor:
    """Pseudo labels for T_n derived from the (detached) T_d prediction.

    Every rule ends with the static rule: a pixel whose label is a dynamic class (trainIds
    11–18: person … bicycle) becomes `ignore_index`; the 11 static classes are kept.

    * "static" (default, DANNet): label = argmax softmax(P_Td), then the static rule.
    * "confidence": as "static", and also ignore pixels whose day confidence
      max_k softmax(P_Td)_k is below `confidence_threshold`.
    * "fusion": p = w·softmax(P_Td) + (1 − w)·softmax(P_Tn), w = `day_weight` where the day
      confidence ≥ `confidence_threshold`, else `night_weight` (so with the defaults the day
      prediction gets 0.8 where it is confident and the night prediction gets 0.8 elsewhere);
      label = argmax p, then the static rule. Needs `logits_Tn`.

    Args:
        logits_Td: N×K×H×W day logits.
        rule: "static", "confidence" or "fusion".
        logits_Tn: N×K×H×W night logits (rule="fusion" only).
        confidence_threshold: day softmax confidence that counts as confident, in [0, 1].
        day_weight: day weight where the day prediction is confident ("fusion").
        night_weight: day weight where it is not ("fusion").
        ignore_index: the value of ignored pixels.

    Returns:
        N×H×W long labels in the static classes or `ignore_index`.
    """
    check_ndim("logits_Td", logits_Td, 4, "N×K×H×W")
    check_floating("logits_Td", logits_Td)
    check_choice("rule", rule, PSEUDO_RULES)
    check_unit_interval("confidence_threshold", confidence_threshold)
    check_unit_interval("day_weight", day_weight)
    check_unit_interval("night_weight", night_weight)
    with full_precision(logits_Td):
        p_day = torch.softmax(as_float(logits_Td.detach()), dim=1)
        confidence, label = p_day.max(dim=1)
        if rule == "fusion":
            if logits_Tn is None:
                raise InputError(
                    "rule='fusion' fuses the day and night predictions and needs logits_Tn; "
                    "got None"
                )
            check_ndim("logits_Tn", logits_Tn, 4, "N×K×H×W")
            if logits_Tn.shape != logits_Td.shape:
                raise InputError(
                    f"logits_Tn has shape {tuple(logits_Tn.shape)} but logits_Td has "
                    f"{tuple(logits_Td.shape)}; they must match"
                )
            p_night = torch.softmax(as_float(logits_Tn.detach()), dim=1)
            w = torch.where(confidence >= confidence_threshold, day_weight, night_weight)
            w = w.unsqueeze(1)
            label = (w * p_day + (1.0 - w) * p_night).argmax(dim=1)
    dynamic = torch.tensor(DYNAMIC_CLASSES, device=label.device)
    ignored = torch.isin(label, dynamic)
    if rule == "confidence":
        ignored |= confidence < confidence_threshold
    return label.masked_fill(ignored, ignore_index)


def allowed_classes(
    pseudo: Tensor, num_classes: int, window: int = 3, ignore_index: int = IGNORE_INDEX
) -> Tensor:
    """Which classes occur in each pixel's window×window neighbourhood of the pseudo label.

    Args:
        pseudo: N×H×W labels (`ignore_index` contributes no class).
        num_classes: K.
        window: odd side of the neighbourhood.

    Returns:
        N×K×H×W bool; entry k is True where class k occurs within the window.
    """
    valid = pseudo != ignore_index
    one_hot = F.one_hot(pseudo.long().masked_fill(~valid, 0), num_classes)
    one_hot = (one_hot * valid.unsqueeze(-1)).permute(0, 3, 1, 2).float()
    # A max-pool over a one-hot map is a per-class dilation by the window.
    dilated = F.max_pool2d(one_hot, kernel_size=window, stride=1, padding=window // 2)
    return dilated > 0


def tolerant_pseudo_loss(
    logits_Tn: Tensor,
    pseudo: Tensor,
    window: int = 3,
    ignore_index: int = IGNORE_INDEX,
) -> Tensor:
    """Cross-entropy that tolerates a window×window misalignment of the pseudo label.

    For a labelled pixel x, let A(x) be the classes present in the window around x in the
    pseudo label (x's own class always among them). The loss is the mean over labelled
    pixels of −log Σ_{k∈A(x)} softmax(P_Tn(x))_k: predicting any class seen nearby counts as
    correct. Since A(x) holds x's own label, each pixel's loss is ≤ its cross-entropy, and
    equal where the window holds one class. Pixels whose own pseudo label is ignored stay
    ignored (the same pixels plain cross-entropy uses), so dynamic objects are not
    re-labelled from their surroundings.

    Args:
        logits_Tn: N×K×h×w night logits; upsampled bilinearly to the label size if needed.
        pseudo: N×H×W pseudo labels (e.g. from `pseudo_labels`).
        window: odd neighbourhood side (1 gives plain cross-entropy).
        ignore_index: the value of ignored pixels.

    Returns:
        Scalar; 0 connected to `logits_Tn` when every pixel is ignored.
    """
    check_logits_and_label(logits_Tn, pseudo, ignore_index, "logits_Tn", "pseudo")
    check_positive_int("window", window)
    if window % 2 == 0:
        raise InputError(f"window must be odd so it centres on the pixel; got {window}")
    logits_Tn = resize_logits(logits_Tn, pseudo.shape[-2:])
    labelled = pseudo != ignore_index
    allowed = allowed_classes(pseudo, logits_Tn.shape[1], window, ignore_index)
    # Ignored pixels may have an empty window; allowing every class there keeps their
    # (discarded) value finite, so no NaN leaks into the gradient through the mask.
    allowed |= ~labelled.unsqueeze(1)
    with full_precision(logits_Tn):
        log_p = torch.log_softmax(as_float(logits_Tn), dim=1)
        log_p_allowed = log_p.masked_fill(~allowed, float("-inf")).logsumexp(dim=1)
        # Sum over labelled pixels / their count: no host sync, and 0 (not NaN) when none.
        total = -(log_p_allowed * labelled).sum()
        return total / labelled.sum().clamp_min(1)
