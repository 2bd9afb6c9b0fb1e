"""Confusion-matrix metrics for semantic segmentation (docs/TRAINING.md, "Evaluation").

Accumulate with :meth:`ConfusionMatrix.update` over a whole split, then call
:meth:`ConfusionMatrix.compute` once: IoU is a ratio of *dataset-level* pixel counts, never an
average of per-image IoUs. Conventions follow the official Cityscapes scripts and
mmsegmentation: ``IoU_k = TP_k / (TP_k + FP_k + FN_k)``; pixels whose ground truth is
``ignore_index`` are dropped before counting, so they are neither false positives nor false
negatives; a class with ``TP + FP + FN = 0`` (absent from the ground truth and never predicted)
has IoU NaN and is left out of the mean. A class absent from the ground truth but predicted
somewhere has IoU 0 and *does* count in the mean.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import torch
import torch.distributed as dist

from ccdistill.labels import CLASS_NAMES, IGNORE_INDEX, NUM_CLASSES
from ccdistill.errors import InputError

__all__ = ["ConfusionMatrix", "format_table", "default_class_names"]


def _as_tensor(x: Any, name: str, device: torch.device) -> torch.Tensor:
    """Tensor or array-like of integer class ids -> int64 tensor on ``device``."""
    if isinstance(x, np.ndarray):
        x = torch.from_numpy(np.ascontiguousarray(x))
    elif not isinstance(x, torch.Tensor):
        try:
            x = torch.as_tensor(np.asarray(x))
        except (TypeError, ValueError) as exc:
            raise InputError(
                f"{name} must be a tensor or numpy array of integer class ids, "
                f"got {type(x).__name__}"
            ) from exc
    if x.dtype.is_floating_point or x.dtype.is_complex or x.dtype == torch.bool:
        raise InputError(
            f"{name} must hold integer class ids, got dtype {x.dtype}; "
            "for predictions pass e.g. logits.argmax(dim=1), not the logits or probabilities"
        )
    return x.to(device=device, dtype=torch.int64, non_blocking=True)


class ConfusionMatrix:
    """A K×K pixel confusion matrix (rows = ground truth, columns = prediction).

    Args:
        num_classes: K, the number of evaluated classes (ids 0..K-1). Default 19 (Cityscapes
            trainIds).
        ignore_index: ground-truth value of pixels that are skipped (Cityscapes void = 255).
        device: where the matrix lives; inputs are moved there. ``None`` means CPU. Keep it on
            the model's device during evaluation to avoid a copy per batch.

    Example::

        cm = ConfusionMatrix()
        for pred, label in batches:          # pred, label: N×H×W integer ids
            cm.update(pred, label)
        result = cm.compute()                # result["miou"], result["per_class_iou"], ...
    """

    def __init__(
        self,
        num_classes: int = NUM_CLASSES,
        ignore_index: int = IGNORE_INDEX,
        device: torch.device | str | None = None,
    ) -> None:
        if not isinstance(num_classes, int) or num_classes < 1:
            raise InputError(f"num_classes must be a positive int, got {num_classes!r}")
        if 0 <= ignore_index < num_classes:
            raise InputError(
                f"ignore_index={ignore_index} collides with a class id (0..{num_classes - 1}); "
                "use a value outside that range such as 255"
            )
        self.num_classes = num_classes
        self.ignore_index = ignore_index
        self.device = torch.device("cpu" if device is None else device)
        self.matrix = torch.zeros(num_classes, num_classes, dtype=torch.int64, device=self.device)

    # ------------------------------------------------------------------ accumulate
    def update(self, pred: Any, target: Any) -> "ConfusionMatrix":
        """Add one batch of pixels.

        Args:
            pred: predicted class ids, any shape (e.g. N×H×W), values in [0, K).
            target: ground-truth class ids of the same shape, values in [0, K) or
                ``ignore_index``.

        Returns:
            ``self``, so calls can be chained.

        Raises:
            InputError: shapes differ, a dtype is not integer, a prediction lies outside
                [0, K), or a ground-truth value is neither a class id nor ``ignore_index``.
        """
        pred_t = _as_tensor(pred, "pred", self.device)
        target_t = _as_tensor(target, "target", self.device)
        if pred_t.shape != target_t.shape:
            raise InputError(
                f"pred and target must have the same shape, got pred {tuple(pred_t.shape)} and "
                f"target {tuple(target_t.shape)}; resize the prediction to the label size "
                "(e.g. predict(..., output_size=label.shape[-2:])) before updating"
            )
        k = self.num_classes
        if pred_t.numel() == 0:
            return self
        pmin, pmax = int(pred_t.min()), int(pred_t.max())
        if pmin < 0 or pmax >= k:
            raise InputError(
                f"pred holds class ids in [{pmin}, {pmax}], expected values in [0, {k - 1}]; "
                "predictions must be argmax class ids (an 'ignored' prediction is not allowed)"
            )
        valid = target_t != self.ignore_index
        target_v = target_t[valid]
        pred_v = pred_t[valid]
        if target_v.numel() == 0:
            return self
        tmin, tmax = int(target_v.min()), int(target_v.max())
        if tmin < 0 or tmax >= k:
            raise InputError(
                f"target holds values in [{tmin}, {tmax}] besides ignore_index={self.ignore_index}, "
                f"expected class ids in [0, {k - 1}]; Cityscapes labelIds must be mapped to "
                "trainIds first (ccdistill.labels.label_ids_to_train_ids)"
            )
        # One bincount over a joint index is much faster than K² boolean masks.
        counts = torch.bincount(target_v * k + pred_v, minlength=k * k)
        self.matrix += counts.reshape(k, k)
        return self

    def reset(self) -> None:
        """Zero the matrix (start a new split)."""
        self.matrix.zero_()

    def merge(self, other: "ConfusionMatrix") -> "ConfusionMatrix":
        """Add the counts of ``other`` (e.g. a matrix accumulated by another worker); returns self."""
        if not isinstance(other, ConfusionMatrix):
            raise InputError(f"merge expects a ConfusionMatrix, got {type(other).__name__}")
        if (other.num_classes, other.ignore_index) != (self.num_classes, self.ignore_index):
            raise InputError(
                "cannot merge confusion matrices with different settings: "
                f"num_classes {self.num_classes} vs {other.num_classes}, "
                f"ignore_index {self.ignore_index} vs {other.ignore_index}"
            )
        self.matrix += other.matrix.to(self.device)
        return self

    def all_reduce(self) -> "ConfusionMatrix":
        """Sum the matrix over all ranks of the default process group; returns self.

        A no-op when ``torch.distributed`` is unavailable or not initialised, so the same code
        runs on one process. With the NCCL backend the matrix must live on the rank's GPU
        (``device="cuda"``). Call it once, after every rank has updated on its own shard.
        """
        if dist.is_available() and dist.is_initialized():
            dist.all_reduce(self.matrix, op=dist.ReduceOp.SUM)
        return self

    # ------------------------------------------------------------------ compute
    def compute(self) -> dict[str, Any]:
        """Metrics of everything accumulated so far.

        Returns:
            dict with
            ``per_class_iou`` (float64 array, length K; NaN where TP+FP+FN = 0),
            ``miou`` (float, NaN-mean of ``per_class_iou``; NaN if every class is NaN),
            ``pixel_accuracy`` (float, correct / evaluated pixels),
            ``per_class_accuracy`` (float64 array, TP / ground-truth pixels; NaN where a class
            has no ground-truth pixel),
            ``mean_accuracy`` (float, NaN-mean of ``per_class_accuracy``),
            ``num_pixels`` (int, evaluated pixels) and
            ``confusion`` (K×K int64 array, rows = ground truth, columns = prediction).
        """
        conf = self.matrix.detach().cpu().numpy().astype(np.int64)
        c = conf.astype(np.float64)
        tp = np.diag(c)
        gt_pixels = c.sum(axis=1)
        pred_pixels = c.sum(axis=0)
        union = gt_pixels + pred_pixels - tp  # = TP + FP + FN
        total = c.sum()
        with np.errstate(divide="ignore", invalid="ignore"):
            iou = np.where(union > 0, tp / union, np.nan)
            acc = np.where(gt_pixels > 0, tp / gt_pixels, np.nan)
        return {
            "per_class_iou": iou,
            "miou": _nanmean(iou),
            "pixel_accuracy": float(tp.sum() / total) if total > 0 else float("nan"),
            "per_class_accuracy": acc,
            "mean_accuracy": _nanmean(acc),
            "num_pixels": int(conf.sum()),
            "confusion": conf,
        }

    def __repr__(self) -> str:
        return (
            f"ConfusionMatrix(num_classes={self.num_classes}, ignore_index={self.ignore_index}, "
            f"device={self.device}, pixels={int(self.matrix.sum())})"
        )


def _nanmean(values: np.ndarray) -> float:
    """Mean over the finite entries; NaN (without a RuntimeWarning) if there are none."""
    finite = values[~np.isnan(values)]
    return float(finite.mean()) if finite.size else float("nan")


NULL_MEANS = "null: no pixels of this class in the ground truth nor the prediction (IoU or accuracy undefined)"


def result_to_json(result: Mapping[str, Any]) -> dict[str, Any]:
    """A :meth:`ConfusionMatrix.compute` result as strict JSON values: arrays become lists and
    every NaN (a class with no pixels) becomes ``None`` (``null``), since NaN is not valid JSON;
    the ``"null"`` key says what null means."""

    def plain(value: Any) -> Any:
        if isinstance(value, np.ndarray):
            return [plain(v) for v in value.tolist()]
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        if isinstance(value, (float, np.floating)):
            return None if np.isnan(value) or np.isinf(value) else float(value)
        if isinstance(value, np.integer):
            return int(value)
        return value

    return {key: plain(value) for key, value in result.items()} | {"null": NULL_MEANS}


def default_class_names(num_classes: int, class_names: Sequence[str] | None = None) -> list[str]:
    """``class_names`` as a list, or the Cityscapes names for K = 19, else ``class 0..K-1``."""
    if class_names is not None:
        return list(class_names)
    if num_classes == len(CLASS_NAMES):
        return list(CLASS_NAMES)
    return [f"class {i}" for i in range(num_classes)]


def format_table(
    result: Mapping[str, Any],
    class_names: Sequence[str] | None = CLASS_NAMES,
) -> str:
    """Per-class IoU as a fixed-width text table with mIoU and pixel accuracy at the bottom.

    Args:
        result: a :meth:`ConfusionMatrix.compute` result.
        class_names: one name per class, in class-id order (``None``: see
            :func:`default_class_names`).

    Returns:
        The table; values are percentages with two decimals, classes with NaN IoU (absent from
        ground truth and prediction) read ``n/a``.
    """
    iou = np.asarray(result["per_class_iou"], dtype=np.float64)
    class_names = default_class_names(iou.shape[0], class_names)
    if len(class_names) != iou.shape[0]:
        raise InputError(
            f"class_names has {len(class_names)} names but the result has {iou.shape[0]} classes; "
            "pass one name per class"
        )
    width = max(14, max(len(n) for n in class_names) + 2)
    rule = "-" * (width + 10)

    def row(name: str, value: float) -> str:
        cell = "n/a" if np.isnan(value) else f"{100.0 * value:.2f}"
        return f"{name:<{width}}{cell:>10}"

    lines = [f"{'class':<{width}}{'IoU (%)':>10}", rule]
    lines += [row(name, float(v)) for name, v in zip(class_names, iou)]
    lines += [rule, row("mIoU", float(result["miou"])),
              row("pixel acc.", float(result["pixel_accuracy"]))]
    return "\n".join(lines)
