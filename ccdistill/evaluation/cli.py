"""`ccdistill eval` and `ccdistill export {darkzurich,acdc,validate}`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Iterator

import numpy as np
import torch

from ccdistill.cli import parse_size
from ccdistill.distributed import resolve_device


def _size(text: str | None, option: str) -> tuple[int, int] | None:
    return parse_size(text, option) if text else None


def _evaluation_config(args: argparse.Namespace):
    from ccdistill.config import load_config

    overrides = list(args.overrides)
    if args.split:
        overrides.append(f"data.eval_split={args.split}")
    return load_config(args.config, overrides)


def evaluate_command(args: argparse.Namespace) -> int:
    from ccdistill.checkpoint import load_deployed
    from ccdistill.data import Normalization, build_datasets
    from ccdistill.evaluation import evaluate, format_table, plot_confusion_matrix

    config = _evaluation_config(args)
    device = resolve_device(args.device)
    segmenter, meta = load_deployed(args.checkpoint, map_location=device)
    # The images are normalised as the model was trained, whatever the config's model.arch says.
    normalization = Normalization.from_meta(meta)
    dataset = build_datasets(config.data, seed=config.train.seed, normalization=normalization).evaluation
    size = _size(args.size, "--size") or config.data.eval_size
    result, _ = evaluate(segmenter, dataset, size=size, sliding_window=_size(args.sliding_window, "--sliding-window"),
                         device=device, progress=True, max_images=args.max_images)
    where = f"{config.data.dataset} {config.data.eval_split}"
    print(f"{args.checkpoint} ({meta['arch']}, variant {meta.get('variant')}) on {where}, "
          f"input {'native' if size is None else f'{size[0]}x{size[1]}'}:")
    print(format_table(result, meta.get("class_names") or None))
    if args.output:
        out = Path(args.output)
        out.mkdir(parents=True, exist_ok=True)
        serialisable = {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in result.items()}
        (out / "metrics.json").write_text(json.dumps(serialisable, indent=2, default=float))
        figure = plot_confusion_matrix(result["confusion"])
        figure.savefig(out / "confusion.png", dpi=120, bbox_inches="tight")
        print(f"wrote {out / 'metrics.json'} and {out / 'confusion.png'}")
    return 0


def _predictions(segmenter: torch.nn.Module, dataset, size, device, progress: bool = True) -> Iterator:
    """(name, probabilities K×H×W at the image's full resolution) for every image of `dataset`."""
    from tqdm.auto import tqdm

    from ccdistill.evaluation import predict

    for index in tqdm(range(len(dataset)), desc="predict", disable=not progress):
        sample = dataset[index]
        image = sample["image"].unsqueeze(0).to(device)  # full resolution: no transform
        yield sample["name"], predict(segmenter, image, size=size)[0].cpu()


def export_command(args: argparse.Namespace) -> int:
    from ccdistill.checkpoint import load_deployed
    from ccdistill.data import ACDCNight, DarkZurichEval, EvalTransform, Normalization
    from ccdistill.evaluation import export_acdc, export_darkzurich

    device = resolve_device(args.device)
    segmenter, meta = load_deployed(args.checkpoint, map_location=device)
    size = _size(args.size, "--size")
    # Full-resolution images, normalised as the model was trained.
    transform = EvalTransform(normalization=Normalization.from_meta(meta))
    if args.benchmark == "darkzurich":
        dataset = DarkZurichEval(args.root, split=args.split, transform=transform)
        out = export_darkzurich(_predictions(segmenter, dataset, size, device), args.out, force=args.force)
    else:
        dataset = ACDCNight(args.root, split=args.split, transform=transform)
        out = export_acdc(_predictions(segmenter, dataset, size, device), args.out, force=args.force)
    print(f"wrote {len(dataset)} predictions to {out}")
    return 0


def validate_command(args: argparse.Namespace) -> int:
    from ccdistill.evaluation import darkzurich_test_names, validate_darkzurich_submission

    expected = darkzurich_test_names(args.root) if args.root else None
    problems = validate_darkzurich_submission(args.out, expected_names=expected,
                                              image_size=_size(args.image_size, "--image-size"))
    for problem in problems:
        print(f"problem: {problem}")
    print(f"{args.out}: {'valid' if not problems else f'{len(problems)} problem(s)'}")
    return 0 if not problems else 1


def register(subparsers: argparse._SubParsersAction) -> None:
    evaluate_parser = subparsers.add_parser("eval", help="per-class IoU of a deployed checkpoint on an evaluation split")
    evaluate_parser.add_argument("--checkpoint", required=True, help="deploy.pt written by ccdistill train")
    evaluate_parser.add_argument("--config", required=True, help="the data config, e.g. configs/toycity.yaml")
    evaluate_parser.add_argument("--split", choices=["val", "test"], help="overrides data.eval_split")
    evaluate_parser.add_argument("--size", help="HxW the network sees (default data.eval_size)")
    evaluate_parser.add_argument("--sliding-window", help="HxW window for sliding-window inference")
    evaluate_parser.add_argument("--max-images", type=int)
    evaluate_parser.add_argument("--device", default="auto")
    evaluate_parser.add_argument("--output", help="folder for metrics.json and confusion.png")
    evaluate_parser.add_argument("overrides", nargs="*", metavar="key=value")
    evaluate_parser.set_defaults(func=evaluate_command)

    export_parser = subparsers.add_parser("export", help="benchmark-server submissions and their validation")
    benchmarks = export_parser.add_subparsers(dest="benchmark", metavar="BENCHMARK", required=True)
    for name, default_split in (("darkzurich", "test"), ("acdc", "test")):
        parser = benchmarks.add_parser(name, help=f"write a {name} test-server submission")
        parser.add_argument("--checkpoint", required=True)
        parser.add_argument("--root", required=True, help=f"the {name} dataset root")
        parser.add_argument("--split", default=default_split)
        parser.add_argument("--out", required=True)
        parser.add_argument("--size", help="HxW the network sees (default: full resolution)")
        parser.add_argument("--device", default="auto")
        parser.add_argument("--force", action="store_true", help="overwrite a non-empty --out")
        parser.set_defaults(func=export_command)
    validate = benchmarks.add_parser("validate", help="check a Dark Zurich submission folder")
    validate.add_argument("--out", required=True, help="the submission folder")
    validate.add_argument("--root", help="Dark Zurich root: check names against its test images")
    validate.add_argument("--image-size", default="1080x1920")
    validate.set_defaults(func=validate_command)
