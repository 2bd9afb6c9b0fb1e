"""Inference for evaluation: whole-image or sliding-window prediction, and split evaluation.

A segmenter here is any ``nn.Module`` whose ``forward(x)`` takes an N×3×H×W batch normalised
with its own mean/std (``Segmenter.normalization()``, or ``Normalization.from_meta(meta)`` of a
``deploy.pt``: build the evaluation dataset with it) and returns logits N×K×H×W at the input
size, either as a tensor or as an object with a ``logits`` attribute (``SegmenterOutput``). An
optional ``size_divisor`` attribute says what H and W must be divisible by (default 1).
"""

from __future__ import annotations

import contextlib
import itertools
import math
from typing import Any, Iterator, Sequence

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset, Subset

from ccdistill.labels import IGNORE_INDEX
from ccdistill.errors import InputError
from ccdistill.models.segmenter import round_up

from .metrics import ConfusionMatrix

__all__ = ["predict", "evaluate"]

# Default stride of sliding-window inference as a fraction of the window: windows overlap by a
# third, as in mmsegmentation's Cityscapes configs (crop 769, stride 513).
_DEFAULT_STRIDE_FRACTION = 2.0 / 3.0


def _pair(value: Sequence[int] | int, name: str) -> tuple[int, int]:
    """(h, w) of positive ints from an int or a 2-sequence."""
    if isinstance(value, int):
        value = (value, value)
    try:
        h, w = (int(v) for v in value)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} must be (height, width), got {value!r}") from exc
    if h < 1 or w < 1:
        raise InputError(f"{name} must be positive (height, width), got {(h, w)}")
    return h, w


def _size_divisor(model: nn.Module) -> int:
    return max(1, int(getattr(model, "size_divisor", 1) or 1))


def _normalization_of(model: nn.Module) -> str:
    """How `model` wants its inputs normalised, for messages: its declared mean/std (Segmenter),
    else the deploy.pt's meta."""
    mean, std = getattr(model, "input_mean", None), getattr(model, "input_std", None)
    if mean is None or std is None:
        return "the mean/std of the model's deploy.pt meta (ImageNet's for most architectures)"
    return f"the model's mean {list(mean)} and std {list(std)}"


def _logits_of(output: Any) -> torch.Tensor:
    if isinstance(output, torch.Tensor):
        return output
    logits = getattr(output, "logits", None)
    if isinstance(logits, torch.Tensor):
        return logits
    raise InputError(
        f"the model returned {type(output).__name__}; expected logits as a tensor or an "
        "object with a .logits tensor (SegmenterOutput)"
    )


def _forward_padded(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Logits N×K×H×W of ``x`` (N×3×H×W) for any H, W.

    When H or W is not a multiple of the model's ``size_divisor`` (or is below its optional
    ``min_size``) the batch is zero-padded at the bottom/right (zero = the dataset mean colour
    after normalisation) and the logits are cropped back, so no pixel is resampled.
    """
    div = _size_divisor(model)
    # Segmenters also refuse inputs below `min_size` (their feature map would vanish).
    smallest = round_up(max(1, int(getattr(model, "min_size", 1) or 1)), div)
    h, w = x.shape[-2:]
    ph, pw = max(round_up(h, div), smallest) - h, max(round_up(w, div), smallest) - w
    if ph or pw:
        x = F.pad(x, (0, pw, 0, ph))
    logits = _logits_of(model(x))
    if logits.shape[-2:] != x.shape[-2:]:
        raise InputError(
            f"the model returned logits of spatial size {tuple(logits.shape[-2:])} for an input "
            f"of {tuple(x.shape[-2:])}; segmenters must upsample logits to the input size"
        )
    return logits[..., :h, :w]


def _window_starts(length: int, window: int, stride: int) -> list[int]:
    """Start offsets of windows along one axis: every ``stride`` pixels, with the last window
    flush with the border so the whole axis is covered (window is clamped to the length)."""
    window = min(window, length)
    starts = list(range(0, length - window + 1, stride))
    if starts[-1] + window < length:
        starts.append(length - window)
    return starts


def _sliding_logits(
    model: nn.Module,
    x: torch.Tensor,
    window: tuple[int, int],
    stride: tuple[int, int],
) -> torch.Tensor:
    """Average of the logits of overlapping windows, N×K×H×W."""
    h, w = x.shape[-2:]
    wh, ww = min(window[0], h), min(window[1], w)
    logit_sum: torch.Tensor | None = None
    count = torch.zeros(1, 1, h, w, device=x.device, dtype=torch.float32)
    for top in _window_starts(h, wh, stride[0]):
        for left in _window_starts(w, ww, stride[1]):
            crop_logits = _forward_padded(model, x[..., top:top + wh, left:left + ww]).float()
            if logit_sum is None:
                logit_sum = x.new_zeros(x.shape[0], crop_logits.shape[1], h, w, dtype=torch.float32)
            logit_sum[..., top:top + wh, left:left + ww] += crop_logits
            count[..., top:top + wh, left:left + ww] += 1
    assert logit_sum is not None  # at least one window always exists
    return logit_sum / count


@contextlib.contextmanager
def _eval_mode(model: nn.Module) -> Iterator[None]:
    """Put the model in eval mode (BatchNorm running stats, no dropout), restore afterwards."""
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)


@torch.inference_mode()
def predict(
    model: nn.Module,
    image: torch.Tensor,
    size: tuple[int, int] | None = None,
    sliding_window: tuple[int, int] | None = None,
    stride: tuple[int, int] | None = None,
    output_size: tuple[int, int] | None = None,
) -> torch.Tensor:
    """Softmax class probabilities of a batch of images.

    Args:
        model: a segmenter (see the module docstring); it runs on the device of ``image`` and
            is put in eval mode for the call (its previous mode is restored).
        image: N×3×H×W normalised float batch (N may be 1).
        size: resize the input (bilinear) to this (height, width) before the network. Each side
            is rounded *up* to the next multiple of ``model.size_divisor`` (e.g. 540×960 with
            divisor 8 runs at 544×960). ``None`` keeps the input size; a side that is not a
            multiple is then zero-padded and the padding cropped from the logits.
        sliding_window: (height, width) of windows for sliding-window inference at the network
            resolution; overlapping logits are averaged; the last window in each direction is
            flush with the border so every pixel is covered. A window larger than the image is
            clamped to it; a window side that is not a multiple of ``size_divisor`` is padded
            like a whole image. ``None`` runs the whole image at once.
        stride: (height, width) step between windows; default two thirds of the window.
        output_size: (height, width) of the returned probabilities; default the input's H×W.
            Probabilities are resized bilinearly, which keeps every pixel a distribution.

    Returns:
        N×K×h×w float32 probabilities (softmax over K) at ``output_size``.
    """
    if not isinstance(image, torch.Tensor) or image.dim() != 4 or image.shape[1] != 3:
        shape = tuple(image.shape) if isinstance(image, torch.Tensor) else type(image).__name__
        raise InputError(
            f"image must be an N×3×H×W tensor, got {shape}; add a batch dimension with "
            "image.unsqueeze(0) for a single image"
        )
    if not image.dtype.is_floating_point:
        raise InputError(
            f"image must be a normalised float tensor, got dtype {image.dtype}; convert it with "
            f"ccdistill.data.transforms.image_to_tensor(image, normalization) using {_normalization_of(model)}"
        )
    in_size = tuple(image.shape[-2:])
    out_size = in_size if output_size is None else _pair(output_size, "output_size")
    x = image
    if size is not None:
        div = _size_divisor(model)
        net_h, net_w = (round_up(s, div) for s in _pair(size, "size"))
        if (net_h, net_w) != in_size:
            x = F.interpolate(x, size=(net_h, net_w), mode="bilinear", align_corners=False)

    with _eval_mode(model):
        if sliding_window is None:
            logits = _forward_padded(model, x).float()
        else:
            window = _pair(sliding_window, "sliding_window")
            steps = (
                _pair(stride, "stride")
                if stride is not None
                else tuple(max(1, math.ceil(s * _DEFAULT_STRIDE_FRACTION)) for s in window)
            )
            logits = _sliding_logits(model, x, window, steps)  # type: ignore[arg-type]

    probs = logits.softmax(dim=1)
    if tuple(probs.shape[-2:]) != tuple(out_size):
        probs = F.interpolate(probs, size=out_size, mode="bilinear", align_corners=False)
    return probs


def _collate_image_label(samples: list[dict[str, Any]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack only ``image`` and ``label``; other keys (names, reference images) are not needed."""
    for i, s in enumerate(samples):
        if not isinstance(s, dict) or "image" not in s or "label" not in s:
            keys = sorted(s) if isinstance(s, dict) else type(s).__name__
            raise InputError(
                f"evaluate needs dataset items that are dicts with 'image' (3×H×W) and 'label' "
                f"(H×W) entries; item {i} of a batch has {keys}"
            )
    images = torch.stack([torch.as_tensor(s["image"]) for s in samples])
    labels = torch.stack([torch.as_tensor(s["label"]) for s in samples])
    return images, labels


@torch.inference_mode()
def evaluate(
    model: nn.Module,
    dataset: Dataset,
    size: tuple[int, int] | None = None,
    sliding_window: tuple[int, int] | None = None,
    device: torch.device | str = "cpu",
    batch_size: int = 1,
    progress: bool = True,
    max_images: int | None = None,
    num_workers: int = 0,
) -> tuple[dict[str, Any], ConfusionMatrix]:
    """Evaluate a segmenter on a labelled split with one confusion matrix over all pixels.

    Args:
        model: a segmenter; it is moved to ``device`` (``model.to`` is in place).
        dataset: items are dicts with ``image`` (3×H×W normalised float tensor) and ``label``
            (H'×W' long tensor of trainIds, 255 = ignored). The label may be larger than the
            image (e.g. full-resolution ground truth with downscaled inputs): probabilities are
            upsampled to the label size before the argmax. With ``batch_size > 1`` all images
            (and all labels) must share one size.
        size: network input size, see :func:`predict`.
        sliding_window: sliding-window size, see :func:`predict`.
        device: where inference and counting run (``"cpu"``, ``"cuda"``, ``"mps"`` ...).
        batch_size: images per forward pass.
        progress: show a tqdm progress bar.
        max_images: evaluate only the first ``max_images`` items (quick checks).
        num_workers: DataLoader worker processes for reading images.

    Returns:
        ``(result, confusion_matrix)``: the :meth:`ConfusionMatrix.compute` dict and the
        matrix itself (to merge with other shards; under ``torch.distributed`` with a sharded
        dataset call ``confusion_matrix.all_reduce()`` and ``compute()`` again).
    """
    from tqdm.auto import tqdm  # imported here: only evaluation needs a progress bar

    if batch_size < 1:
        raise InputError(f"batch_size must be >= 1, got {batch_size}")
    device = torch.device(device)
    num_classes = getattr(model, "num_classes", None)
    if num_classes is None:
        raise InputError("model must have a num_classes attribute (the number of output classes)")
    model.to(device)

    source: Any = dataset
    total: int | None = len(dataset) if hasattr(dataset, "__len__") else None  # type: ignore[arg-type]
    if max_images is not None:
        if max_images < 1:
            raise InputError(f"max_images must be >= 1 or None, got {max_images}")
        if total is not None:
            total = min(total, max_images)
            source = Subset(dataset, range(total))
    loader = DataLoader(
        source,
        batch_size=batch_size,
        shuffle=False,
        num_workers=num_workers,
        collate_fn=_collate_image_label,
        pin_memory=device.type == "cuda",
    )
    batches: Any = loader
    if max_images is not None and total is None:  # iterable dataset without a length
        batches = itertools.islice(loader, math.ceil(max_images / batch_size))

    cm = ConfusionMatrix(num_classes=int(num_classes), ignore_index=IGNORE_INDEX, device=device)
    n_batches = None if total is None else math.ceil(total / batch_size)
    for images, labels in tqdm(batches, total=n_batches, disable=not progress, desc="evaluate"):
        images = images.to(device, non_blocking=True).float()
        labels = labels.to(device, non_blocking=True).long()
        probs = predict(
            model, images, size=size, sliding_window=sliding_window,
            output_size=tuple(labels.shape[-2:]),
        )
        cm.update(probs.argmax(dim=1), labels)
    return cm.compute(), cm
