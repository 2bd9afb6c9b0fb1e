"""Checkpoints: written atomically, read with `torch.load(weights_only=True)`.

Two kinds:
- training checkpoints (`ckpt_<iteration>.pt`, `best.pt`): M_d, M_n, projection head, optimiser,
  scaler, iteration, RNG states and data position, for exact resume;
- the deployable checkpoint (`deploy.pt`): M_n alone with what is needed to use it
  (architecture, classes, normalisation). No projection head, no M_d.
"""

from __future__ import annotations

import pickle
import random
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import torch
from torch import nn

from ccdistill.errors import CheckpointError, InputError
from ccdistill.runfolder.files import not_a_file, write_atomic
from ccdistill.runfolder.names import CHECKPOINT_TEMPLATE, DEPLOY_NAME, TEMPORARY_GLOB
from ccdistill.normalization import Normalization

TRAIN_FORMAT = "ccdistill-train-v1"
DEPLOY_FORMAT = "ccdistill-deploy-v1"


def save_atomic(obj: Any, path: str | Path) -> Path:
    """torch.save to a temporary file in the same folder, then rename over `path`, so a crash
    mid-write never leaves a truncated checkpoint under the real name."""
    return write_atomic(path, lambda file: torch.save(obj, file))


def remove_orphaned_temporaries(folder: str | Path) -> list[Path]:
    """Delete the temporary files of writes a killed process never finished. Call it only while
    holding the folder's lock: another live run's temporaries look the same."""
    removed = []
    for path in Path(folder).glob(TEMPORARY_GLOB):
        if path.is_file():
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def first_non_finite(named: Iterable[tuple[str, torch.Tensor]]) -> tuple[str, str] | None:
    """(name, "nan" | "inf") of the first floating tensor holding a NaN or an infinity, else None.

    One reduction per tensor and a single device-to-host copy for all of them, so the check
    costs one synchronisation however many tensors a model has."""
    named = [(name, t) for name, t in named if isinstance(t, torch.Tensor) and t.is_floating_point()
             and t.numel() > 0]
    if not named:
        return None
    by_device: dict[torch.device, list[int]] = {}
    for index, (_, t) in enumerate(named):
        by_device.setdefault(t.device, []).append(index)
    finite = [True] * len(named)
    for indices in by_device.values():
        flags = torch.stack([torch.isfinite(named[i][1]).all() for i in indices]).tolist()
        for i, flag in zip(indices, flags):
            finite[i] = bool(flag)
    for (name, t), ok in zip(named, finite):
        if not ok:
            return name, "nan" if bool(torch.isnan(t).any()) else "inf"
    return None


def optimizer_tensors(optimizer: torch.optim.Optimizer) -> list[tuple[str, torch.Tensor]]:
    """The optimiser's state tensors (e.g. SGD momentum buffers), named by parameter index."""
    named = []
    for index, (_, state) in enumerate(optimizer.state.items()):
        for key, value in state.items():
            if isinstance(value, torch.Tensor):
                named.append((f"optimizer state {key} of parameter {index}", value))
    return named


def read_checkpoint(path: str | Path, expected_format: str, map_location: str | torch.device = "cpu") -> dict:
    """Load a checkpoint safely (weights_only) and check its format tag."""
    path = Path(path)
    problem = not_a_file(path)
    if problem is not None:
        raise CheckpointError(f"checkpoint {path} {problem}; {_checkpoint_advice(path, expected_format)}")
    try:
        if not _looks_like_torch_file(path):  # else torch's pickle reader would call it unsafe
            raise ValueError("not a PyTorch file: neither a zip archive nor a pickle")
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:  # weights_only refused an object that could run code
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise CheckpointError(
            f"checkpoint {path} was refused by torch's safe loader (weights_only=True): it holds Python "
            f"objects other than tensors and plain containers, and unpickling it could execute code "
            f"({first_line}). ccdistill never loads such files; if you made it yourself and trust it, "
            "re-save only its tensors with torch.save(state_dict, path)"
        ) from None
    except Exception as error:  # torch raises several types for truncated or foreign files
        # The first sentence only: torch's zip reader goes on about miniz internals.
        detail = (str(error).strip().splitlines() or [""])[0].split(". ")[0][:160]
        cause = f"{type(error).__name__}: {detail}" if detail else type(error).__name__
        if path.stat().st_size == 0:
            cause = "it is empty (0 bytes)"
        raise CheckpointError(
            f"checkpoint {path} cannot be read ({cause}); it may be truncated or not a ccdistill checkpoint"
        ) from None
    found = payload.get("format") if isinstance(payload, dict) else None
    if found != expected_format:
        what = {DEPLOY_FORMAT: "a deployable model: use it with ccdistill eval",
                TRAIN_FORMAT: "a training checkpoint: resume with ccdistill train"}.get(found, "not written by ccdistill")
        beside = path.parent / DEPLOY_NAME
        if found == TRAIN_FORMAT and expected_format == DEPLOY_FORMAT and beside.is_file():
            what += f"; the deployable model of that run is {beside}"  # best.pt, ckpt_*.pt: training states
        raise CheckpointError(f"checkpoint {path} has format {found!r}, expected {expected_format!r} ({what})")
    return payload


PICKLE_PROTOCOL_MARK = 0x80  # the first byte of a pickle of protocol 2 or later (torch's legacy format)


def _looks_like_torch_file(path: Path) -> bool:
    """Whether the file starts as torch.save writes: a zip archive, or a legacy pickle."""
    with path.open("rb") as file:
        start = file.read(4)
    return start.startswith(b"PK\x03\x04") or (len(start) > 0 and start[0] == PICKLE_PROTOCOL_MARK)


def _checkpoint_advice(path: Path, expected_format: str) -> str:
    """What to pass instead of a path that is not a checkpoint file: the file a run folder
    holds for that use when `path` is a run folder, else the kind of file expected."""
    wanted = DEPLOY_NAME if expected_format == DEPLOY_FORMAT else CHECKPOINT_TEMPLATE
    if path.is_dir():
        inside = sorted(path.glob(wanted.replace("<7 digits>", "*")))
        if inside:
            return f"pass the file inside it, e.g. {inside[-1]}"
        return f"pass the path of a {wanted} file (this folder holds none)"
    return f"pass the path of a {wanted} file written by ccdistill train"


def check_compatible(path: str | Path, meta: dict, arch: str, num_classes: int) -> None:
    """Refuse a checkpoint of another architecture or class count, naming both."""
    if meta.get("arch") != arch or meta.get("num_classes") != num_classes:
        raise CheckpointError(
            f"checkpoint {path} holds a {meta.get('arch')} with {meta.get('num_classes')} classes, "
            f"but the run is configured for {arch} with {num_classes} classes; set model.arch="
            f"{meta.get('arch')} model.num_classes={meta.get('num_classes')} or choose another output folder"
        )


def rng_state() -> dict:
    """Every random generator the training loop may touch, as tensors and plain lists."""
    numpy_state = np.random.get_state()
    state = {
        "torch": torch.get_rng_state(),
        "numpy": {"keys": torch.from_numpy(numpy_state[1].astype(np.int64)), "pos": int(numpy_state[2]),
                  "has_gauss": int(numpy_state[3]), "cached_gaussian": float(numpy_state[4])},
        "python": list(random.getstate()[1]),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"].cpu())
    numpy_state = state["numpy"]
    np.random.set_state(("MT19937", numpy_state["keys"].numpy().astype(np.uint32), numpy_state["pos"],
                         numpy_state["has_gauss"], numpy_state["cached_gaussian"]))
    random.setstate((3, tuple(state["python"]), None))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"]])


def deploy_payload(segmenter: nn.Module, meta: dict) -> dict:
    """The deployable checkpoint of one segmenter (M_n, or M_d for source_only)."""
    state = {k: v.detach().cpu() for k, v in segmenter.state_dict().items()}
    return {"format": DEPLOY_FORMAT, "state_dict": state, "meta": meta}


def load_deployed(path: str | Path, map_location: str | torch.device = "cpu",
                  arch: str | None = None, num_classes: int | None = None) -> tuple[nn.Module, dict]:
    """Build the segmenter a deploy checkpoint describes and load its weights.

    Returns (segmenter in eval mode, meta). `arch`/`num_classes`, when given, must match.
    meta["mean"] and meta["std"] are the normalisation the model was trained with: feed it
    images normalised with `Normalization.from_meta(meta)`. Files that record none get the
    architecture's own (every file written before they were recorded used ImageNet's, which is
    what those architectures declare).
    """
    from ccdistill.models import build_segmenter, input_normalization

    payload = read_checkpoint(path, DEPLOY_FORMAT, map_location)
    meta = dict(payload["meta"])
    if arch is not None or num_classes is not None:
        check_compatible(path, meta, arch or meta["arch"], num_classes or meta["num_classes"])
    segmenter = build_segmenter(meta["arch"], num_classes=meta["num_classes"], weights=None)
    try:
        segmenter.load_state_dict(payload["state_dict"])
    except RuntimeError as error:
        raise CheckpointError(f"checkpoint {path} does not fit a {meta['arch']}: {str(error)[:300]}") from None
    try:
        normalization = Normalization.from_meta(meta, default=input_normalization(meta["arch"]))
    except InputError as error:
        raise CheckpointError(f"checkpoint {path} records an unusable input normalisation: {error}") from None
    meta.update(normalization.as_meta())
    return segmenter.to(map_location).eval(), meta
