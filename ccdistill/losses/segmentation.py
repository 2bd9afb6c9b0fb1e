"""The supervised segmentation loss L_seg (cross-entropy with an ignore label)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ccdistill.errors import InputError
from ccdistill.labels import IGNORE_INDEX
from ccdistill.losses._checks import check_floating, check_ndim, zero_with_grad


def check_logits_and_label(
    logits: Tensor,
    label: Tensor,
    ignore_index: int = IGNORE_INDEX,
    logits_name: str = "logits",
    label_name: str = "label",
) -> None:
    """Check N×K×h×w float logits against an N×H×W integer label map.

    Label values are range-checked only for CPU tensors: on an accelerator the check would
    stall every training step on a host sync, and cross-entropy's own assert catches them.
    """
    check_ndim(logits_name, logits, 4, "N×K×h×w")
    check_floating(logits_name, logits)
    check_ndim(label_name, label, 3, "N×H×W")
    if label.is_floating_point() or label.is_complex() or label.dtype == torch.bool:
        raise InputError(f"{label_name} must hold integer class ids; got dtype {label.dtype}")
    if label.shape[0] != logits.shape[0]:
        raise InputError(
            f"{label_name} has batch {label.shape[0]} but {logits_name} has {logits.shape[0]}; "
            f"they must match"
        )
    if label.device != logits.device:
        raise InputError(
            f"{label_name} is on {label.device} but {logits_name} is on {logits.device}"
        )
    if label.device.type == "cpu" and label.numel() > 0:
        k = logits.shape[1]
        bad = (label != ignore_index) & ((label < 0) | (label >= k))
        if bool(bad.any()):
            value = int(label[bad][0])
            raise InputError(
                f"{label_name} contains class id {value}, outside 0..{k - 1} of the {k} "
                f"classes in {logits_name} and not the ignore index {ignore_index}"
            )


def resize_logits(logits: Tensor, size: tuple[int, int]) -> Tensor:
    """N×K×h×w logits bilinearly resized to `size` = (H, W); returned as is if already there.

    Resizing the logits (not the label) keeps the label's exact class ids.
    """
    if tuple(logits.shape[-2:]) == tuple(size):
        return logits
    return F.interpolate(logits, size=tuple(size), mode="bilinear", align_corners=False)


def segmentation_loss(logits: Tensor, label: Tensor, ignore_index: int = IGNORE_INDEX) -> Tensor:
    """Pixel-averaged cross-entropy over the labelled pixels.

    Args:
        logits: N×K×h×w class scores; upsampled bilinearly to the label size if it differs.
        label: N×H×W integer class ids in 0..K−1, `ignore_index` for unlabelled pixels.
        ignore_index: the label value that is left out.

    Returns:
        Scalar, float32 (float64 for float64 logits). A batch whose every pixel is ignored
        gives 0 that is still connected to `logits` (no NaN, backward() works).
    """
    check_logits_and_label(logits, label, ignore_index)
    logits = resize_logits(logits, label.shape[-2:])
    label = label.long()
    valid = (label != ignore_index).sum()
    if label.numel() == 0:
        return zero_with_grad(logits)
    # Sum then divide: reduction="mean" is 0/0 = NaN when nothing is labelled.
    total = F.cross_entropy(logits, label, ignore_index=ignore_index, reduction="sum")
    return total / valid.clamp_min(1).to(total.dtype)
