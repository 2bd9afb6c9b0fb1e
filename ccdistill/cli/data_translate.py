"""`ccdistill data translate`: S_d -> S_n offline with `translate_folder`."""

from __future__ import annotations

import argparse

from ccdistill.cli.args import terminal_progress

# Literal copy of ccdistill.data.translate.FOLDER_METHODS, so that `--help` imports no torch;
# tests/reliability/test_cli_faults.py checks that the two agree.
FOLDER_METHODS: tuple[str, ...] = ("fda", "lab", "relight", "none")


def run(args: argparse.Namespace) -> int:
    from ccdistill.data.offline_translation import translate_folder

    written = translate_folder(
        args.source, args.reference, args.out, method=args.method, beta=args.beta, seed=args.seed,
        progress=terminal_progress(args.quiet), force=args.force,
    )
    print(f"translated {len(written)} images ({args.method}) from {args.source} into {args.out}")
    return 0


def register(data_subparsers: argparse._SubParsersAction) -> None:
    """Add `translate` to the `ccdistill data` subcommands."""
    parser = data_subparsers.add_parser(
        "translate", help="translate source-day images (*_leftImg8bit.png) to night offline (S_d -> S_n)",
    )
    parser.add_argument("--method", default="fda", choices=FOLDER_METHODS, help="translation method (default fda)")
    parser.add_argument("--source", required=True, help="folder of *_leftImg8bit.png day images (searched recursively)")
    parser.add_argument("--reference", default=None,
                        help="folder of target-night *.png style references (needed by fda and lab)")
    parser.add_argument("--out", required=True, help="output folder; relative paths are kept")
    parser.add_argument("--beta", type=float, default=0.01, help="FDA low-frequency window (default 0.01)")
    parser.add_argument("--seed", type=int, default=0, help="picks references and noise (default 0)")
    parser.add_argument("--force", action="store_true", help="overwrite existing output files")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=run, output_option="out")
