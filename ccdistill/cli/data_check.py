"""`ccdistill data check --dataset D --root DIR`: print the layout report; exit status 1 when the
loaders cannot use the tree."""

from __future__ import annotations

import argparse

# Literal copy of ccdistill.data.check.DATASETS, so that `--help` imports no torch;
# tests/reliability/test_cli_faults.py checks that the two agree.
DATASETS: tuple[str, ...] = ("cityscapes", "darkzurich", "acdc", "nightdriving")


def run(args: argparse.Namespace) -> int:
    """Print `check_layout(args.dataset, args.root)`; 0 when usable, 1 otherwise."""
    from ccdistill.data.check import check_layout

    report = check_layout(args.dataset, args.root, deep=getattr(args, "deep", False),
                          corresp=getattr(args, "corresp", None))
    print(report.format())
    return 0 if report.usable else 1


def register(data_subparsers: argparse._SubParsersAction) -> None:
    """Add `check` to the `ccdistill data` subcommands."""
    parser = data_subparsers.add_parser(
        "check",
        help="check that a folder holds a real dataset in the layout the loaders expect",
        description="Count images, references, labels and pairs per split; name every missing path "
        "with its expected pattern and official archive. Exit status 1 when unusable.",
    )
    parser.add_argument("--dataset", required=True, choices=DATASETS, help="which dataset the folder holds")
    parser.add_argument("--root", required=True, help="the folder the archives were extracted into")
    parser.add_argument(
        "--deep", action="store_true", help="decode every file, not only the first sample of each split"
    )
    parser.add_argument(
        "--corresp", default=None,
        help="darkzurich only: one pair-list CSV to check instead of corresp/train/night/*.csv (as data.corresp)",
    )
    parser.set_defaults(func=run)
