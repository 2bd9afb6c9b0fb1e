"""Benchmark of the training data pipeline: samples/s of each stream pair through a DataLoader,
against the samples/s the CPU training step (the `cpu` profile on ToyCity) consumes.

Run:  .venv/bin/python benchmarks/bench_data_pipeline.py  [--size 256 512] [--images 16] [--workers 0 2]

It generates a small ToyCity (Cityscapes and Dark Zurich layouts, `--size`) in a temporary
folder, then times, for each worker count:

- source streams (S_d, S_n, label): PNG decode + SourcePairTransform + translation, for the
  translations fda, lab, relight, folder (the oracle: true night images) and none;
- target streams (T_n, T_d): two PNG decodes + TargetPairTransform.

Each figure is samples/s over `--epochs` whole epochs (batches of 2) after one warm-up epoch,
with persistent workers. Decoding dominates, so samples/s scale with image area: the real
Cityscapes (1024×2048) and Dark Zurich (1080×1920) frames are about 16 times the default 256×512.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import statistics

import torch
from torch.utils.data import DataLoader

from ccdistill.evaluation.bench import make_training_step
from ccdistill.config import CONFIG_DIR, load_config
from ccdistill.data import build_datasets
from ccdistill.toycity import generate_toycity

BATCH_SIZE = 2
TRANSLATIONS = ("none", "fda", "lab", "relight", "folder")


def make_tree(root: Path, size: tuple[int, int], images: int) -> str:
    """Write a small ToyCity; returns a description of it."""
    generate_toycity(root, size=size, seed=0, n_train=images, n_val=1, n_test=1, progress=False)
    return f"ToyCity {size[0]}×{size[1]}, {images} train scenes (generate_toycity)"


def samples_per_second(dataset, workers: int, epochs: int) -> float:
    """Samples/s over `epochs` whole epochs after one warm-up epoch (workers kept alive, so
    worker start-up is excluded and prefetching cannot hide the work of the timed epochs)."""
    loader = DataLoader(dataset, batch_size=BATCH_SIZE, shuffle=True, num_workers=workers,
                        drop_last=True, persistent_workers=workers > 0)
    for _ in loader:  # warm-up: worker start-up, file cache, first allocations
        pass
    start, seen = time.perf_counter(), 0
    for _ in range(epochs):
        for batch in loader:
            seen += len(batch["name"])
    return seen / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, nargs=2, default=(256, 512), metavar=("H", "W"))
    parser.add_argument("--images", type=int, default=16, help="train scenes (source images and target pairs)")
    parser.add_argument("--workers", type=int, nargs="+", default=(0, 2))
    parser.add_argument("--epochs", type=int, default=2, help="timed epochs per figure")
    args = parser.parse_args(argv)
    # The training transforms of the `cpu` profile on ToyCity (configs/toycity.yaml).
    config = load_config(CONFIG_DIR / "toycity.yaml", ["profile=cpu"])
    data = config.data
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "toycity"
        print(f"tree: {make_tree(root, tuple(args.size), args.images)}")
        print(f"transforms of configs/toycity.yaml profile=cpu: source crop {data.source_crop}, target crop "
              f"{data.target_crop} resized to {data.target_size}; batch {BATCH_SIZE}, {args.epochs} timed epochs "
              "after a warm-up epoch")
        print(f"{'stream pair':<34} " + " ".join(f"{f'workers={w}':>12}" for w in args.workers))
        slowest = float("inf")
        for translation in TRANSLATIONS:
            data.root, data.translation = str(root), translation
            bundle = build_datasets(data)
            rates = [samples_per_second(bundle.source, w, args.epochs) for w in args.workers]
            slowest = min(slowest, rates[-1])
            print(f"{'source S_d+S_n+label, ' + translation:<34} " + " ".join(f"{r:>10.1f}/s" for r in rates))
        rates = [samples_per_second(bundle.target, w, args.epochs) for w in args.workers]
        slowest = min(slowest, rates[-1])
        print(f"{'target T_n+T_d':<34} " + " ".join(f"{r:>10.1f}/s" for r in rates))
    consumed = training_consumption(config)
    print(f"training step ({config.model.arch}, variant {config.variant}, batch {config.train.batch_size}): "
          f"consumes {consumed:.1f} samples/s per stream pair; slowest pipeline row at workers={args.workers[-1]} "
          f"is {slowest / consumed:.1f}x that (goal > 1: the pipeline keeps up)")


def training_consumption(config, repeats: int = 3) -> float:
    """Samples per second per stream pair that one training step of `config` consumes on CPU."""
    step = make_training_step(config, torch.device("cpu"), config.data.source_crop, config.data.target_size)
    step()  # warm-up
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        seconds.append(time.perf_counter() - start)
    return config.train.batch_size / statistics.median(seconds)


if __name__ == "__main__":
    main()
