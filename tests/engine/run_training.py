"""Runs a training in its own process for the engine tests (SIGKILL, torchrun).

    python tests/engine/run_training.py [--kill-during-step N] [--rank-weights DIR] -- key=value ...
"""

from __future__ import annotations

import argparse
import os
import signal
from pathlib import Path

import torch

from ccdistill.config import load_config
from ccdistill.train import Trainer

CONFIG = Path(__file__).resolve().parents[2] / "configs" / "toycity.yaml"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kill-during-step", type=int, default=0)
    parser.add_argument("--rank-weights", default="")
    parser.add_argument("--initial-weights", default="", help="save the weights before training here")
    parser.add_argument("overrides", nargs="*")
    args = parser.parse_args()

    def kill(event: str, trainer: Trainer) -> None:
        # after_backward of step N: gradients exist, the optimiser has not stepped yet.
        if event == "after_backward" and trainer.iteration + 1 == args.kill_during_step:
            os.kill(os.getpid(), signal.SIGKILL)

    trainer = Trainer(load_config(CONFIG, args.overrides), hooks=[kill] if args.kill_during_step else [])
    if args.initial_weights:
        torch.save({k: v.detach().clone() for k, v in trainer.model.state_dict().items()}, args.initial_weights)
    try:
        trainer.fit()
        if args.rank_weights:
            state = {k: v.detach().cpu() for k, v in trainer.model.state_dict().items()}
            torch.save(state, Path(args.rank_weights) / f"rank{trainer.context.rank}.pt")
    finally:
        trainer.context.shutdown()


if __name__ == "__main__":
    main()
