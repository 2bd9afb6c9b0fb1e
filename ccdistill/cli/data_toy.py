"""`ccdistill data toy`: generate ToyCity with `generate_toycity` (the function the notebooks call)."""

from __future__ import annotations

import argparse

from ccdistill.cli.args import parse_size


def run(args: argparse.Namespace) -> int:
    from ccdistill.toycity import generate_toycity

    manifest = generate_toycity(
        args.root, size=parse_size(args.size), seed=args.seed, n_train=args.n_train, n_val=args.n_val,
        n_test=args.n_test, force=args.force, progress=not args.quiet,
    )
    counts = ", ".join(f"{key} {value}" for key, value in manifest["counts"].items())
    print(f"ToyCity (seed {manifest['seed']}, {manifest['size'][0]}x{manifest['size'][1]}) in {args.root}: "
          f"{len(manifest['files'])} files ({counts})")
    return 0


def register(data_subparsers: argparse._SubParsersAction) -> None:
    """Add `toy` to the `ccdistill data` subcommands."""
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
    parser.set_defaults(func=run, output_option="root")
