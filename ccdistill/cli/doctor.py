"""`ccdistill doctor`: versions, device, known mismatches."""

from __future__ import annotations

import argparse


def run(args: argparse.Namespace) -> int:
    from ccdistill.runtime.doctor import doctor

    return doctor(args)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("doctor", help="print versions and the device; warn on mismatches")
    parser.set_defaults(func=run)
