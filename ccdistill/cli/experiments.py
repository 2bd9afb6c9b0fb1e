"""`ccdistill experiments ...`: the ToyCity experiment registry (docs/RESULTS.md).

The registry's own parser (`python -m ccdistill.experiments`) needs the library, so this command
hands its arguments over unparsed and `ccdistill --help` stays free of torch."""

from __future__ import annotations

import argparse


def run(args: argparse.Namespace) -> int:
    from ccdistill.experiments.cli import main

    return main(args.arguments)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "experiments", add_help=False,
        help="the ToyCity experiment registry: run | status | table | figures (see `ccdistill experiments --help`)")
    parser.add_argument("arguments", nargs=argparse.REMAINDER)
    parser.set_defaults(func=run)
