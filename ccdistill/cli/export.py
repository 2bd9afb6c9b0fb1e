"""`ccdistill export darkzurich|acdc` (benchmark-server submissions) and `export validate`."""

from __future__ import annotations

import argparse
from typing import Iterator

from ccdistill.cli.args import device_name, optional_size, terminal_progress

BENCHMARKS: tuple[str, ...] = ("darkzurich", "acdc")


def _predictions(segmenter, dataset, size, device, progress: bool = True) -> Iterator:
    """(name, probabilities K×H×W at the image's full resolution) for every image of `dataset`."""
    from tqdm.auto import tqdm

    from ccdistill.evaluation import predict

    for index in tqdm(range(len(dataset)), desc="predict", disable=not progress):
        sample = dataset[index]
        image = sample["image"].unsqueeze(0).to(device)  # full resolution: no transform
        yield sample["name"], predict(segmenter, image, size=size)[0].cpu()


def run_export(args: argparse.Namespace) -> int:
    from ccdistill.cli.deployed import load_model
    from ccdistill.data import ACDCNight, DarkZurichEval, EvalTransform, Normalization
    from ccdistill.evaluation import export_acdc, export_darkzurich

    size = None if args.size == "native" else optional_size(args.size, "--size")
    segmenter, meta, device = load_model(args.checkpoint, args.device)
    # Full-resolution images, normalised as the model was trained; only the night images are
    # read: a submission needs neither day references nor labels.
    transform = EvalTransform(normalization=Normalization.from_meta(meta))
    if args.benchmark == "darkzurich":
        dataset = DarkZurichEval(args.root, split=args.split, transform=transform, images_only=True)
        write = export_darkzurich
    else:
        dataset = ACDCNight(args.root, split=args.split, transform=transform, images_only=True)
        write = export_acdc
    out = write(_predictions(segmenter, dataset, size, device, terminal_progress()), args.out, force=args.force)
    print(f"wrote {len(dataset)} predictions to {out}")
    return 0


def run_validate(args: argparse.Namespace) -> int:
    from ccdistill.evaluation import (
        acdc_test_names, darkzurich_test_names, validate_acdc_submission, validate_darkzurich_submission,
    )

    names, validate = {
        "darkzurich": (darkzurich_test_names, validate_darkzurich_submission),
        "acdc": (acdc_test_names, validate_acdc_submission),
    }[args.server]
    expected = names(args.root) if args.root else None
    problems = validate(args.out, expected_names=expected, image_size=optional_size(args.image_size, "--image-size"))
    for problem in problems:
        print(f"problem: {problem}")
    print(f"{args.out}: {'valid' if not problems else f'{len(problems)} problem(s)'}")
    return 0 if not problems else 1


def register(subparsers: argparse._SubParsersAction) -> None:
    export_parser = subparsers.add_parser("export", help="benchmark-server submissions and their validation")
    benchmarks = export_parser.add_subparsers(dest="benchmark", metavar="BENCHMARK", required=True)
    for name in BENCHMARKS:
        parser = benchmarks.add_parser(name, help=f"write a {name} test-server submission")
        parser.add_argument("--checkpoint", required=True)
        parser.add_argument("--root", required=True, help=f"the {name} dataset root")
        parser.add_argument("--split", default="test")
        parser.add_argument("--out", required=True)
        parser.add_argument("--size", default="540x960",
                            help="HxW the network sees, logits upsampled to the full-resolution labels "
                                 "(default 540x960, DANNet's; 'native' for full resolution)")
        parser.add_argument("--device", type=device_name, default="auto")
        parser.add_argument("--force", action="store_true", help="overwrite a non-empty --out")
        parser.set_defaults(func=run_export, output_option="out")
    validate = benchmarks.add_parser("validate", help="check a Dark Zurich (default) or ACDC submission folder")
    validate.add_argument("--out", required=True, help="the submission folder")
    validate.add_argument("--root", help="the dataset root: check names against its test images")
    validate.add_argument("--image-size", default="1080x1920")
    validate.add_argument("--benchmark", dest="server", choices=BENCHMARKS, default="darkzurich",
                          help="which server's format to check (default darkzurich)")
    validate.set_defaults(func=run_validate)
