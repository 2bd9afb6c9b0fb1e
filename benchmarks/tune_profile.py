"""One candidate of the `cpu` profile, scored on the ToyCity **val** splits only (test is never
read): train with the overrides given, then print the target-night val mIoU, the domain-shift
splits and the per-class val IoU. How docs/TRAINING.md's "choosing the cpu profile" table was made.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/tune_profile.py runs/tune/E variant=full optim.name=adamw ...
"""

from __future__ import annotations

import json
import sys

from ccdistill.config import load_config
from ccdistill.experiments.evaluation import evaluate_deployed
from ccdistill.labels import CLASS_NAMES
from ccdistill.train import Trainer


def main(argv: list[str]) -> None:
    output, overrides = argv[0], argv[1:]
    config = load_config("toycity", ["profile=cpu", "data.root=data/toycity", f"output={output}",
                                     "train.progress=false", "train.val_every=0", *overrides])
    Trainer(config).fit()
    metrics = evaluate_deployed(config, f"{output}/deploy.pt", domain_shift=True,
                                splits=("val", "source_day_val", "target_day_val"))
    scores = {split: round(100 * m["miou"], 2) for split, m in metrics.items()}
    per_class = {CLASS_NAMES[i]: round(100 * v, 1) for i, v in enumerate(metrics["val"]["per_class_iou"])
                 if v is not None}
    print("RESULT", output, " ".join(overrides), json.dumps(scores), json.dumps(per_class))


if __name__ == "__main__":
    main(sys.argv[1:])
