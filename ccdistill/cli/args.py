"""Argument types shared by the commands: the one size parser, devices, positive counts."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from ccdistill.errors import InputError

SIZE_PATTERN = re.compile(r"^\s*(\d+)\s*[xX×]\s*(\d+)\s*$")
DEVICE_PATTERN = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


def parse_size(text: str, option: str = "--size") -> tuple[int, int]:
    """'256x512' -> (256, 512) as (H, W): the one size parser of every command's size options."""
    match = SIZE_PATTERN.match(text)
    if match is None:
        raise InputError(f"{option} must be HEIGHTxWIDTH in pixels, e.g. 256x512; got {text!r}.")
    return int(match.group(1)), int(match.group(2))


def optional_size(text: str | None, option: str) -> tuple[int, int] | None:
    """`parse_size` for options whose absence means "native size"."""
    return parse_size(text, option) if text else None


def device_name(text: str) -> str:
    """argparse type of --device: auto, cpu, cuda, cuda:N or mps (availability is checked when
    the command resolves the device)."""
    if not DEVICE_PATTERN.match(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a device; expected auto, cpu, cuda, cuda:N or mps")
    return text


def positive_int(text: str) -> int:
    """argparse type of counts that must be at least 1 (repeats, image limits)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer (at least 1), got {value}")
    return value


def output_folder(text: str | None, option: str, writes: str) -> Path | None:
    """The folder an option names, created now, before the command's work: a file there (or above
    it), or a folder that cannot be created, is reported before anything is computed."""
    if not text:
        return None
    folder = Path(text)
    blocking = next((p for p in (folder, *folder.parents) if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        where = "is a file" if blocking == folder else f"is inside {blocking}, which is a file"
        raise InputError(f"{option} {folder} {where}, expected a folder ({writes} are written into it); "
                         "pass a folder path (it is created if missing)")
    folder.mkdir(parents=True, exist_ok=True)  # permission errors now: the CLI names the folder
    return folder


def terminal_progress(quiet: bool = False) -> bool:
    """Whether to show a progress bar: not when asked to be quiet, and only on a terminal, where
    it redraws in place (in a log file every redraw would be kept)."""
    return not quiet and sys.stderr.isatty()
