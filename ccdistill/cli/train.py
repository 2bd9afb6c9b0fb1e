"""`ccdistill train`: load the config, run the Trainer (which resumes from the output folder)."""

from __future__ import annotations

import argparse


def run(args: argparse.Namespace) -> int:
    from ccdistill.config import load_config
    from ccdistill.runfolder.names import DEPLOY_NAME
    from ccdistill.train import Trainer

    config = load_config(args.config, args.overrides)
    args.output_path = config.output  # named by the CLI's OS-error messages
    trainer = Trainer(config)  # says on stderr whether it resumed or starts a new run
    try:
        result = trainer.fit()
    finally:
        trainer.context.shutdown()
    if trainer.context.is_main:
        print(f"deployable model: {trainer.output / DEPLOY_NAME}")
        if result:
            print(f"validation mIoU {100 * result['miou']:.2f}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train", help="train a variant (resumes from the output folder's checkpoints)",
        description="Train CCDistill or a baseline. Runs under torchrun for several processes.")
    parser.add_argument("--config", required=True, help="a YAML file, e.g. configs/toycity.yaml")
    parser.add_argument("overrides", nargs="*", metavar="key=value",
                        help="config overrides, e.g. profile=ci variant=cdc train.max_iterations=100")
    parser.set_defaults(func=run, output_option="output_path")
