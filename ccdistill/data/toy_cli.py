"""`ccdistill data toy` (generate ToyCity) and `ccdistill data translate` (S_d -> S_n offline).

Both handlers only parse arguments and call the library functions the notebooks use:
`generate_toycity` and `translate_folder`.
"""

from __future__ import annotations

import argparse

from ccdistill.cli import parse_size

def _run_toy(args: argparse.Namespace) -> int:
    from ccdistill.data.toycity import generate_toycity

    manifest = generate_toycity(
        args.root, size=parse_size(args.size), seed=args.seed, n_train=args.n_train, n_val=args.n_val,
        n_test=args.n_test, force=args.force, progress=not args.quiet,
    )
    counts = ", ".join(f"{key} {value}" for key, value in manifest["counts"].items())
    print(f"ToyCity (seed {manifest['seed']}, {manifest['size'][0]}x{manifest['size'][1]}) in {args.root}: "
          f"{len(manifest['files'])} files ({counts})")
    return 0


def register_toy(data_subparsers: argparse._SubParsersAction) -> None:
    """Add `data toy` to the `data` subcommand's subparsers."""
    parser = data_subparsers.add_parser(
        "toy",
        help="generate the ToyCity benchmark (source in the Cityscapes layout, target in the Dark Zurich layout)",
    )
    parser.add_argument("--root", required=True, help="output folder (empty, new, or an existing ToyCity)")
    parser.add_argument("--size", default="256x512", help="HEIGHTxWIDTH of every image (default 256x512)")
    parser.add_argument("--seed", type=int, default=0, help="same seed -> byte-identical files (default 0)")
    parser.add_argument("--n-train", type=int, default=200,
                        help="source train scenes = target train pairs (default 200)")
    parser.add_argument("--n-val", type=int, default=50,
                        help="source val scenes = target val night images (default 50)")
    parser.add_argument("--n-test", type=int, default=50, help="target test night images (default 50)")
    parser.add_argument("--force", action="store_true",
                        help="regenerate an existing ToyCity, or write into a non-empty folder")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=_run_toy)


def _run_translate(args: argparse.Namespace) -> int:
    from ccdistill.data.translate import translate_folder

    written = translate_folder(
        args.source, args.reference, args.out, method=args.method, beta=args.beta, seed=args.seed,
        progress=not args.quiet, force=args.force,
    )
    print(f"translated {len(written)} images ({args.method}) from {args.source} into {args.out}")
    return 0


def register_translate(data_subparsers: argparse._SubParsersAction) -> None:
    """Add `data translate` to the `data` subcommand's subparsers."""
    from ccdistill.data.translate import FOLDER_METHODS

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
    parser.set_defaults(func=_run_translate)
