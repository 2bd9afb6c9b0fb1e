"""Reading a pretrained-weights file without trusting it: its SHA-256 first, then
`torch.load(weights_only=True)`, which refuses anything but tensors and plain containers.

A weights file sits in a cache anyone with write access to $TORCH_HOME (or site-packages) can
replace; unpickling it with `weights_only=False` would run whatever code it holds.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch

from ccdistill.errors import CheckpointError

_CHUNK = 1 << 20  # hash in 1 MiB pieces: weights files run to hundreds of MB


def sha256_of(path: str | Path) -> str:
    """Hex SHA-256 of the file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def hash_prefix(file_name: str) -> str | None:
    """The SHA-256 prefix a torch.hub-style name carries (`resnet101-63fe2227.pth` → '63fe2227'),
    found as `torch.hub.load_state_dict_from_url(check_hash=True)` finds it; None without one."""
    match = torch.hub.HASH_REGEX.search(file_name)
    return match.group(1) if match and match.group(1) else None


def verify_sha256(path: str | Path, expected: str, what_to_do: str) -> None:
    """Raise CheckpointError unless the file's SHA-256 starts with `expected` (a prefix of eight or
    more hex digits, or the whole digest), naming the file, both hashes and `what_to_do`."""
    actual = sha256_of(path)
    if not actual.startswith(expected.lower()):
        raise CheckpointError(
            f"weights file {path} was refused: its SHA-256 is {actual}, but it should start with "
            f"{expected}, so it is not the file it is named after (corrupt, truncated, or "
            f"replaced by someone else). It was not unpickled. {what_to_do}"
        )


def load_tensors(path: str | Path, what_to_do: str) -> object:
    """torch.load(path, weights_only=True) on the CPU; CheckpointError (with torch's full reason,
    including its note on why other objects are refused) when the file holds anything else."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises several types for foreign, truncated or unsafe files
        raise CheckpointError(
            f"weights file {path} was refused: it could not be read as tensors alone "
            f"({type(err).__name__}: {err}). {what_to_do}"
        ) from err
