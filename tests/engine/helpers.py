"""Shared helpers of the engine tests."""

from __future__ import annotations

from pathlib import Path

CONFIG = Path(__file__).resolve().parents[2] / "configs" / "toycity.yaml"


def ci_overrides(root: Path, output: Path, *extra: str) -> list[str]:
    """The `ci` profile on the session's ToyCity, writing into `output`."""
    return ["profile=ci", f"data.root={root}", f"output={output}", *extra]
