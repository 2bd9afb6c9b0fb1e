"""Argument types shared by the commands: the one size parser, devices, positive counts."""

from __future__ import annotations

import argparse
import re

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
