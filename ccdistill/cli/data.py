"""`ccdistill data toy|check|translate`: the group; each subcommand has its own module."""

from __future__ import annotations

import argparse

from ccdistill.cli import data_check, data_toy, data_translate


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("data", help="generate ToyCity, check real dataset layouts, translate S_d to night")
    data_subparsers = parser.add_subparsers(dest="data_command", metavar="DATA_COMMAND", required=True)
    data_toy.register(data_subparsers)
    data_check.register(data_subparsers)
    data_translate.register(data_subparsers)
