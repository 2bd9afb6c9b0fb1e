"""`ccdistill data toy|check|translate`."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    from ccdistill.data.check_cli import register_check
    from ccdistill.data.toy_cli import register_toy, register_translate

    parser = subparsers.add_parser("data", help="generate ToyCity, check real dataset layouts, translate S_d to night")
    data_subparsers = parser.add_subparsers(dest="data_command", metavar="DATA_COMMAND", required=True)
    register_toy(data_subparsers)
    register_check(data_subparsers)
    register_translate(data_subparsers)
