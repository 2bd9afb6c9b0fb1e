"""Backbone initialisation: torchvision's ImageNet weights (hub cache or download) or a local
copy of the same file. Never a silent fallback to random weights."""

from __future__ import annotations

import difflib
import os
import pickle
from pathlib import Path

import torch

from ccdistill.errors import CheckpointError, InputError, WeightsUnavailableError
from ccdistill.models.segmenter import Segmenter
from ccdistill.models.state_dicts import load_strict

IMAGENET = "imagenet"


def _file_name(segmenter: Segmenter) -> str | None:
    enum = segmenter.backbone.imagenet_weights
    return enum.url.rsplit("/", 1)[-1] if enum is not None else None


def _download_imagenet(segmenter: Segmenter) -> dict[str, torch.Tensor]:
    enum = segmenter.backbone.imagenet_weights
    if enum is None:
        raise InputError(
            f"weights='{IMAGENET}' was given, but {segmenter.name} has no ImageNet weights; "
            "pass weights=None for random initialisation or pick an architecture with a "
            "torchvision backbone (deeplabv2_resnet101, pspnet_resnet101, mobilenetv3_lraspp)."
        )
    try:
        return enum.get_state_dict(progress=True)
    except (OSError, RuntimeError, ValueError, EOFError, pickle.UnpicklingError) as err:
        # URLError, ConnectionError and the hub's hash-check failures all land here.
        file_name = _file_name(segmenter)
        cache = Path(torch.hub.get_dir()) / "checkpoints"
        raise WeightsUnavailableError(
            f"weights='{IMAGENET}' for {segmenter.name} needs torchvision's {file_name}, which "
            f"is neither in the torch hub cache ({cache}) nor downloadable "
            f"({type(err).__name__}: {err}). Either connect to the internet so torchvision can "
            f"download it into {cache}, or copy {file_name} from a machine that has it and pass "
            f'weights="/path/to/{file_name}".'
        ) from err


def _read_file(path: Path, segmenter: Segmenter) -> object:
    if not path.is_file():
        hint = ""
        if difflib.get_close_matches(str(path), [IMAGENET], n=1):
            hint = f" (did you mean weights='{IMAGENET}'?)"
        raise CheckpointError(
            f"weights file {path} does not exist{hint}; pass weights=None, '{IMAGENET}' or the "
            f"path of a backbone state dict for {segmenter.name}."
        )
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # any failure to unpickle means the file is not a state dict
        raise CheckpointError(
            f"weights file {path} could not be read as a PyTorch state dict "
            f"({type(err).__name__}: {err}); re-copy it or save one with "
            "torch.save(model.state_dict(), path)."
        ) from err


def load_backbone_weights(segmenter: Segmenter, weights: str | os.PathLike) -> None:
    """Fill `segmenter.backbone` from ImageNet (`weights="imagenet"`) or from a state-dict file.

    The image-classifier keys of a torchvision file (`fc.*`, `classifier.*`) are ignored;
    every backbone tensor must be present with the right shape, or CheckpointError says which
    keys do not fit.
    """
    backbone = segmenter.backbone
    if isinstance(weights, str) and weights == IMAGENET:
        state, source = _download_imagenet(segmenter), f"torchvision's {_file_name(segmenter)}"
    else:
        path = Path(weights).expanduser()
        state, source = _read_file(path, segmenter), f"weights file {path}"
    if isinstance(state, dict):
        state = {
            key: value
            for key, value in state.items()
            if not key.startswith(backbone.ignored_weight_prefixes)
        }
    expected = f"a state dict of the {segmenter.name} backbone"
    if _file_name(segmenter):
        expected += f", such as torchvision's ImageNet file {_file_name(segmenter)}"
    if isinstance(state, dict) and any(key.startswith("backbone.") for key in state):
        expected += (
            " (this file looks like a whole segmenter: load it with "
            "segmenter.load_state_dict(torch.load(path)) instead)"
        )
    load_strict(backbone, state, source, f"weights= expects {expected}.")
