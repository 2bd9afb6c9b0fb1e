"""`ccdistill data toy`: generate ToyCity with `generate_toycity` (the function the notebooks call)."""

from __future__ import annotations

import argparse

from ccdistill.cli.args import parse_size

# Literal copy of ccdistill.toycity.shift's controls (their ranges, defaults and "hard" values) and
# preset names, so that building the parser imports no numpy or scipy (the toycity package does);
# tests/data/test_toycity_shift.py checks that the two agree.
SHIFT_OPTIONS: dict[str, str] = {
    "--target-night-gain": "how much the target camera brightens full night (exposure x gain relative to day); "
                           "lower = darker target nights (range 2-64; default 18, hard 12)",
    "--target-noise": "factor on the target camera's sensor noise, which shows at night "
                      "(range 0-10; default 1, hard 5)",
    "--camera-shift": "target camera vs source camera (focal length, horizon, height, white balance, tone curve, "
                      "saturation, vignetting, blur): 0 = the source camera, 2 = twice today's difference "
                      "(range 0-2; default 1, hard 1.6)",
    "--style-shift": "target city colours (surfaces, sky) vs the source's: 0 = the source's mean colours, "
                     "2 = twice today's difference (range 0-2; default 1, hard 1.75)",
    "--source-traffic": "factor on the cars and persons in the source city (range 0-3; default 1, hard 1)",
    "--target-traffic": "factor on the cars and persons in the target city, day and night "
                        "(range 0-3; default 1, hard 2)",
}
PRESETS: tuple[str, ...] = ("default", "hard")


def run(args: argparse.Namespace) -> int:
    from dataclasses import fields

    from ccdistill.toycity import generate_toycity
    from ccdistill.toycity.shift import ShiftSettings, check_control, option_name, shift_preset

    # Options given explicitly override the preset's values; each is checked under its --spelling.
    overrides = {control.name: getattr(args, control.name) for control in fields(ShiftSettings)
                 if getattr(args, control.name) is not None}
    for name, value in overrides.items():
        check_control(name, value, option_name(name))
    manifest = generate_toycity(
        args.root, size=parse_size(args.size), seed=args.seed, n_train=args.n_train, n_val=args.n_val,
        n_test=args.n_test, force=args.force, progress=not args.quiet, shift=shift_preset(args.preset, **overrides),
    )
    counts = ", ".join(f"{key} {value}" for key, value in manifest["counts"].items())
    shift = ", ".join(f"{key} {value:g}" for key, value in manifest.get("shift", {}).items())
    print(f"ToyCity (seed {manifest['seed']}, {manifest['size'][0]}x{manifest['size'][1]}"
          f"{', ' + shift if shift else ''}) in {args.root}: {len(manifest['files'])} files ({counts})")
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
    shift = parser.add_argument_group(
        "domain shift", "how far the target city is from the source city (docs/DATA.md); options given override "
                        "the preset's values, out-of-range values are refused")
    shift.add_argument("--preset", choices=PRESETS, default="default",
                       help="'hard': a larger inherent shift (camera, colours, traffic) and a darker, noisier "
                            "target night; 'default': today's ToyCity (the default)")
    for option, text in SHIFT_OPTIONS.items():
        shift.add_argument(option, type=float, default=None, metavar="X", help=text)
    parser.set_defaults(func=run, output_option="root")
