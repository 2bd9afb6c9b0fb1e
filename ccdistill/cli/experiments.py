"""`ccdistill experiments ...`: the ToyCity experiment registry (docs/RESULTS.md).

The registry's own parser (`ccdistill.experiments.cli`) needs the library, so `ccdistill --help`
only lists the command and `parse` builds that parser when the command is `experiments`: its
help, its errors and its usage lines then read `ccdistill experiments ...`."""

from __future__ import annotations

import argparse

COMMAND = "experiments"


def parse(argv: list[str]) -> argparse.Namespace:
    """The arguments after `ccdistill experiments`, parsed by the registry's parser; `command`
    reads "experiments run" (what error lines start with)."""
    from ccdistill.experiments.cli import build_parser

    args = build_parser().parse_args(argv)
    args.command = f"{COMMAND} {args.command}"
    return args


def register(subparsers: argparse._SubParsersAction) -> None:
    # Listed for `ccdistill --help` only: `ccdistill.cli.main` hands everything after
    # `experiments` to `parse`, so `ccdistill experiments --help` is the registry's own help.
    subparsers.add_parser(
        COMMAND, add_help=False,
        help="the ToyCity experiment registry: run | status | table | figures (see `ccdistill experiments --help`)")
