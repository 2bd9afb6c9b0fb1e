"""The deployed model of `ccdistill eval` and `ccdistill export`: resolve the device, read deploy.pt."""

from __future__ import annotations

from typing import Any


def load_model(path: str, device_name: str) -> tuple[Any, dict, Any]:
    """(segmenter in eval mode, its meta, the torch device) of a deploy.pt on `device_name`."""
    from ccdistill.checkpoint import load_deployed
    from ccdistill.distributed import resolve_device
    from ccdistill.errors import CheckpointError

    device = resolve_device(device_name)
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
