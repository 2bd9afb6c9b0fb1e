"""The deployed model of `ccdistill eval` and `ccdistill export`: resolve the device, read deploy.pt."""

from __future__ import annotations

from typing import Any


def load_model(path: str, device_name: str) -> tuple[Any, dict, Any]:
    """(segmenter in eval mode, its meta, the torch device) of a deploy.pt on `device_name`."""
    from ccdistill.evaluation.deployed import load_for_evaluation

    return load_for_evaluation(path, device_name)
