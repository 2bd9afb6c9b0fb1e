"""Helpers of the reliability tests: a deployable checkpoint, a read-only folder, a CLI run."""

from __future__ import annotations

import builtins
import io
import os
from pathlib import Path

import pytest

from ccdistill.cli import main


def deploy_checkpoint(path: Path, num_classes: int = 19, meta: bool = True) -> Path:
    """A deploy.pt of an untrained `tiny` segmenter, as `ccdistill train` writes it."""
    from ccdistill.runfolder.checkpoint import deploy_payload, save_atomic
    from ccdistill.models import build_segmenter

    segmenter = build_segmenter("tiny", num_classes=num_classes, weights=None)
    payload = deploy_payload(segmenter, {"arch": "tiny", "num_classes": num_classes, "variant": "full"})
    if not meta:
        del payload["meta"]
    return save_atomic(payload, path)


def _inside(path, folder: Path) -> bool:
    try:
        return Path(os.fsdecode(path)).resolve().is_relative_to(folder.resolve())
    except (TypeError, ValueError):
        return False


def read_only(monkeypatch: pytest.MonkeyPatch, folder: Path) -> Path:
    """`folder` made read-only. Root ignores permission bits, so under root the writes the OS
    would refuse anyone else (mkdir, opening for writing) raise the same PermissionError."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o555)
    if os.geteuid() != 0:
        return folder

    def refuse(path):
        raise PermissionError(13, "Permission denied", os.fsdecode(path))

    real_mkdir, real_open, real_os_open = os.mkdir, builtins.open, os.open

    def mkdir(path, *args, **kwargs):
        if _inside(path, folder):
            refuse(path)
        return real_mkdir(path, *args, **kwargs)

    def open_(file, mode="r", *args, **kwargs):
        if isinstance(file, (str, bytes, os.PathLike)) and any(c in mode for c in "wax+") and _inside(file, folder):
            refuse(file)
        return real_open(file, mode, *args, **kwargs)

    def os_open(path, flags, *args, **kwargs):
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT) and _inside(path, folder):
            refuse(path)
        return real_os_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "mkdir", mkdir)
    monkeypatch.setattr(builtins, "open", open_)
    monkeypatch.setattr(io, "open", open_)
    monkeypatch.setattr(os, "open", os_open)
    return folder


def run_cli(argv: list[str], capsys: pytest.CaptureFixture) -> tuple[int, str]:
    """(exit status, stderr) of `ccdistill ARGV`; argparse errors count with their status."""
    capsys.readouterr()
    try:
        status = main([str(a) for a in argv])
    except SystemExit as exit_:
        status = int(exit_.code or 0)
    return status, capsys.readouterr().err


def assert_clear(status: int, err: str, *needles: str) -> None:
    """Exit status 2, one error line (no traceback) that contains every needle."""
    assert status == 2, err
    assert "Traceback" not in err, err
    for needle in needles:
        assert needle in err, (needle, err)
