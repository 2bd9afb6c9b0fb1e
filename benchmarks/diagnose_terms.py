"""Each loss term's value, weighted share and gradient share at M_n's features, on one real
ToyCity batch: at initialisation and after a short training (issue: method fixes, item 8).

    .venv/bin/python benchmarks/diagnose_terms.py --root data/toycity [--iterations 60] [key=value ...]

Weights are read past every warm-up (λ·r(t) with r = 1), the weights a term has for most of a
run. Training uses the config's own schedule for --iterations steps (so the warm-ups apply);
the output folder is a temporary one.
"""

from __future__ import annotations

import argparse
import tempfile

import torch

from ccdistill.config import CONFIG_DIR, load_config
from ccdistill.train.diagnostics import format_reports, term_reports
from ccdistill.train import Trainer


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default="data/toycity", help="ToyCity root (ccdistill data toy)")
    parser.add_argument("--config", default=str(CONFIG_DIR / "toycity.yaml"))
    parser.add_argument("--iterations", type=int, default=60, help="training steps between the two tables")
    parser.add_argument("overrides", nargs="*", default=["profile=cpu"], metavar="key=value")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as output:
        config = load_config(args.config, [*args.overrides, f"data.root={args.root}", f"output={output}",
                                           "train.progress=false", "train.val_every=0", "data.num_workers=0"])
        torch.manual_seed(0)
        trainer = Trainer(config)
        source, target = next(trainer.source), next(trainer.target) if trainer.target else {}
        print(f"variant {config.variant}, arch {config.model.arch}, batch {config.train.batch_size} per stream, "
              f"{torch.get_num_threads()} threads")
        trainer.model.train()
        print(format_reports(term_reports(trainer, source, target), "at initialisation"))
        for _ in range(args.iterations):
            trainer.train_step()
        print(format_reports(term_reports(trainer, source, target),
                             f"\nafter {args.iterations} training steps (same batch)"))


if __name__ == "__main__":
    main()
