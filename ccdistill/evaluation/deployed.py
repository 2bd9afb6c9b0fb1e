"""A deployed checkpoint (deploy.pt) scored on an evaluation split: what `ccdistill eval` and the
notebooks' `evaluate_run` both do.

The split is built alone (`build_evaluation`: no training data is read) and normalised as the
model was trained (the normalisation stored in the checkpoint), at the size the caller gives.
"""

from __future__ import annotations

import os
from typing import Any

import torch

from ccdistill.errors import CheckpointError, DataError


def load_for_evaluation(path: str | os.PathLike, device: str | torch.device = "auto") -> tuple[Any, dict, torch.device]:
    """(segmenter in eval mode, its meta, the torch device) of the deploy.pt at `path`, on
    `device` ("auto", "cpu", "cuda", "cuda:N", "mps" or a torch.device)."""
    from ccdistill.runfolder.checkpoint import load_deployed
    from ccdistill.runtime.distributed import resolve_device

    device = device if isinstance(device, torch.device) else resolve_device(device)
    try:
        segmenter, meta = load_deployed(path, map_location=device)
    except KeyError as error:
        # load_deployed reads payload["meta"] and meta's fields without checking them.
        raise CheckpointError(
            f"checkpoint {path} has the deploy format tag but no {error.args[0]!r} entry (a deploy.pt holds "
            "'state_dict' and 'meta' with arch and num_classes); use the deploy.pt that `ccdistill train` "
            "writes at the end of a run"
        ) from None
    return segmenter, meta, device


def evaluate_checkpoint(
    path: str | os.PathLike,
    data: Any,
    size: tuple[int, int] | None = None,
    sliding_window: tuple[int, int] | None = None,
    device: str | torch.device = "auto",
    max_images: int | None = None,
    progress: bool = False,
) -> tuple[dict[str, Any], dict]:
    """Per-class IoU of the deploy.pt at `path` on the evaluation split `data.eval_split`.

    Args:
        path: a deploy.pt written by `ccdistill train` (or `Trainer.fit`).
        data: the DataConfig of the split (`config.data`; its `eval_split` says which).
        size: (H, W) the network sees; None = native resolution (pass `data.eval_size` for the
            configured one). Scores are computed on the full-resolution labels either way.
        sliding_window: (H, W) window for sliding-window inference, or None.
        device: where inference runs.
        max_images: the first images only (quick checks).
        progress: a tqdm bar over the images.

    Returns:
        (result, meta): the `ConfusionMatrix.compute` dict (`miou`, `per_class_iou`,
        `confusion` K×K, `num_pixels`, ...) and the checkpoint's meta (arch, variant,
        class_names, normalisation, ...).
    """
    from ccdistill.data import Normalization
    from ccdistill.data.build import build_evaluation
    from ccdistill.evaluation.inference import evaluate
    from ccdistill.labels import NUM_CLASSES

    segmenter, meta, device = load_for_evaluation(path, device)
    # The evaluation split only (eval needs no training data), normalised as the model was trained.
    dataset = build_evaluation(data, Normalization.from_meta(meta))
    if meta.get("num_classes") != NUM_CLASSES:
        raise CheckpointError(
            f"checkpoint {path} predicts {meta.get('num_classes')} classes, but {data.dataset} "
            f"labels hold the {NUM_CLASSES} Cityscapes trainIds; evaluate a model trained with "
            f"model.num_classes={NUM_CLASSES}"
        )
    result, _ = evaluate(segmenter, dataset, size=size, sliding_window=sliding_window, device=device,
                         progress=progress, max_images=max_images)
    if result["num_pixels"] == 0:
        raise DataError(
            f"no labelled pixel in {data.dataset} {data.eval_split}: every label pixel is 255 (ignored), so there "
            "is nothing to score. Check the labels: *_labelTrainIds.png files of trainIds 0..18 are expected, "
            "not color or instance PNGs."
        )
    return result, meta
