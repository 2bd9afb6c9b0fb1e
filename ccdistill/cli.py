"""The `ccdistill` console script. Each subcommand lives beside the library code it calls
and registers itself here through a `register(subparsers)` function."""

from __future__ import annotations

import argparse
import importlib
import re
import sys

from ccdistill.errors import CCDistillError, InputError

SIZE_PATTERN = re.compile(r"^\s*(\d+)\s*[xX×]\s*(\d+)\s*$")

# Modules that add subcommands; each defines register(subparsers).
COMMAND_MODULES: tuple[str, ...] = (
    "ccdistill.doctor",
    "ccdistill.data.cli",
    "ccdistill.train",
    "ccdistill.evaluation.cli",
    "ccdistill.bench",
)


def parse_size(text: str, option: str = "--size") -> tuple[int, int]:
    """'256x512' -> (256, 512) as (H, W), for every command's size options."""
    match = SIZE_PATTERN.match(text)
    if match is None:
        raise InputError(f"{option} must be HEIGHTxWIDTH in pixels, e.g. 256x512; got {text!r}.")
    return int(match.group(1)), int(match.group(2))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ccdistill",
        description="CCDistill day-to-night domain adaptation: data, training, evaluation.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status = args.func(args)
    except CCDistillError as error:
        print(f"ccdistill {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"ccdistill {args.command}: interrupted", file=sys.stderr)
        return 130
    return int(status or 0)


if __name__ == "__main__":
    sys.exit(main())
