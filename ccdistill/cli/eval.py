"""`ccdistill eval`: per-class IoU of a deployed checkpoint on the evaluation split only."""

from __future__ import annotations

import argparse

from ccdistill.cli.args import device_name, optional_size, output_folder, positive_int, terminal_progress

NA_NOTE = "n/a: no pixels of this class in the ground truth nor the prediction (IoU undefined)"


def _evaluation_config(args: argparse.Namespace):
    from ccdistill.config import load_config

    overrides = list(args.overrides)
    if args.split:
        overrides.append(f"data.eval_split={args.split}")
    return load_config(args.config, overrides)


def run(args: argparse.Namespace) -> int:
    import json

    import numpy as np

    from ccdistill.evaluation import format_table, plot_confusion_matrix
    from ccdistill.evaluation.deployed import evaluate_checkpoint
    from ccdistill.evaluation.metrics import result_to_json

    config = _evaluation_config(args)
    size = optional_size(args.size, "--size") or config.data.eval_size
    sliding_window = optional_size(args.sliding_window, "--sliding-window")
    out = output_folder(args.output, "--output", "metrics.json and confusion.png")
    result, meta = evaluate_checkpoint(args.checkpoint, config.data, size=size, sliding_window=sliding_window,
                                       device=args.device, max_images=args.max_images, progress=terminal_progress())
    where = f"{config.data.dataset} {config.data.eval_split}"
    print(f"{args.checkpoint} ({meta['arch']}, variant {meta.get('variant')}) on {where}, "
          f"input {'native' if size is None else f'{size[0]}x{size[1]}'}:")
    print(format_table(result, meta.get("class_names") or None))
    if np.isnan(result["per_class_iou"]).any():
        print(NA_NOTE)
    if out is not None:
        (out / "metrics.json").write_text(json.dumps(result_to_json(result), indent=2, allow_nan=False))
        figure = plot_confusion_matrix(result["confusion"])
        figure.savefig(out / "confusion.png", dpi=120, bbox_inches="tight")
        print(f"wrote {out / 'metrics.json'} and {out / 'confusion.png'}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("eval", help="per-class IoU of a deployed checkpoint on an evaluation split")
    parser.add_argument("--checkpoint", required=True, help="deploy.pt written by ccdistill train")
    parser.add_argument("--config", required=True, help="the data config, e.g. configs/toycity.yaml")
    parser.add_argument("--split", choices=["val", "test"], help="overrides data.eval_split")
    parser.add_argument("--size", help="HxW the network sees (default data.eval_size)")
    parser.add_argument("--sliding-window", help="HxW window for sliding-window inference")
    parser.add_argument("--max-images", type=positive_int)
    parser.add_argument("--device", type=device_name, default="auto")
    parser.add_argument("--output", help="folder for metrics.json and confusion.png")
    parser.add_argument("overrides", nargs="*", metavar="key=value")
    parser.set_defaults(func=run, output_option="output")
