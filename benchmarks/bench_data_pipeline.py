"""Benchmark of the training data pipeline: samples/s of each stream pair through a DataLoader.

Run:  .venv/bin/python benchmarks/bench_data_pipeline.py  [--size 256 512] [--images 8] [--workers 0 2]

It builds a small tree in a temporary folder (ToyCity via `ccdistill.data.toycity.generate_toycity`
when that is importable, otherwise synthetic block scenes in the Cityscapes and Dark Zurich
layouts at `--size`), then times, for each worker count:

- source streams (S_d, S_n, label): PNG decode + SourcePairTransform + translation, for the
  translations fda, lab, relight, folder (the oracle: true night images) and none;
- target streams (T_n, T_d): two PNG decodes + TargetPairTransform.

Each figure is samples/s over `--epochs` whole epochs (batches of 2) after one warm-up epoch,
with persistent workers. Decoding dominates, so samples/s scale with image area:
the real Cityscapes (1024×2048) and Dark Zurich (1080×1920) frames are 8-16 times larger than the
default 256×512.
"""

from __future__ import annotations

import argparse
import inspect
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image
from torch.utils.data import DataLoader

from ccdistill.config import DataConfig
from ccdistill.data import build_datasets

BATCH_SIZE = 2
TRANSLATIONS = ("none", "fda", "lab", "relight", "folder")
BLOCK = 16  # side of the synthetic scenes' constant-class blocks
NUM_CLASSES = 19


def _scene(rng: np.random.Generator, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """A block scene: random trainId per block, a random colour per class, a vertical gradient."""
    blocks = rng.integers(0, NUM_CLASSES, (-(-size[0] // BLOCK), -(-size[1] // BLOCK))).astype(np.uint8)
    label = np.kron(blocks, np.ones((BLOCK, BLOCK), np.uint8))[: size[0], : size[1]]
    colours = rng.integers(40, 255, (NUM_CLASSES, 3))
    shade = np.linspace(0.6, 1.0, size[0])[:, None, None]
    return (colours[label] * shade).astype(np.uint8), label


def _save(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def write_synthetic_tree(root: Path, size: tuple[int, int], images: int, seed: int = 0) -> None:
    """root/source in the Cityscapes layout (+ leftImg8bit_night), root/target in the Dark Zurich one."""
    rng = np.random.default_rng(seed)
    source = root / "source"
    for index in range(images):
        stem = f"toysource_{index:06d}_000019"
        image, label = _scene(rng, size)
        _save(source / f"leftImg8bit/train/toysource/{stem}_leftImg8bit.png", image)
        _save(source / f"leftImg8bit_night/train/toysource/{stem}_leftImg8bit.png", image // 4)
        _save(source / f"gtFine/train/toysource/{stem}_gtFine_labelTrainIds.png", label)
    target, rows = root / "target", []
    for index in range(images):
        night, day = f"train/night/GOPR0351/GOPR0351_frame_{index:06d}", f"train/day/GOPR0348/GOPR0348_frame_{index:06d}"
        image, _ = _scene(rng, size)
        _save(target / f"rgb_anon/{day}_rgb_anon.png", image)
        _save(target / f"rgb_anon/{night}_rgb_anon.png", image // 4)
        rows.append(f"{night},{day}")
    (target / "corresp/train/night").mkdir(parents=True)
    (target / "corresp/train/night/GOPR0351.csv").write_text("\n".join(rows) + "\n")
    image, label = _scene(rng, size)
    _save(target / "rgb_anon/val/night/GOPR0356/GOPR0356_frame_000000_rgb_anon.png", image // 4)
    _save(target / "gt/val/night/GOPR0356/GOPR0356_frame_000000_gt_labelTrainIds.png", label)


def make_tree(root: Path, size: tuple[int, int], images: int) -> str:
    """Write the benchmark tree; returns which generator wrote it."""
    try:
        from ccdistill.data.toycity import generate_toycity
    except ImportError:
        write_synthetic_tree(root, size, images)
        return f"synthetic block scenes {size[0]}×{size[1]} (ccdistill.data.toycity.generate_toycity not importable)"
    wanted = {"root": root, "size": size, "seed": 0}
    accepted = inspect.signature(generate_toycity).parameters
    generate_toycity(**{name: value for name, value in wanted.items() if name in accepted})
    return f"ToyCity (generate_toycity, size {size[0]}×{size[1]} where supported)"


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
    parser.add_argument("--images", type=int, default=16, help="images per stream in the synthetic tree")
    parser.add_argument("--workers", type=int, nargs="+", default=(0, 2))
    parser.add_argument("--epochs", type=int, default=2, help="timed epochs per figure")
    args = parser.parse_args(argv)
    height = args.size[0]
    # The paper's recipe scaled to the image height: crop half the height for S, ~0.9 of it for T.
    crops = dict(source_crop=(height // 2, height // 2), target_crop=(height * 9 // 10,) * 2, target_size=(height // 2,) * 2)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "toycity"
        print(f"tree: {make_tree(root, tuple(args.size), args.images)}")
        print(f"crops: {crops}, batch {BATCH_SIZE}, {args.epochs} timed epochs after a warm-up epoch")
        print(f"{'stream pair':<34} " + " ".join(f"{f'workers={w}':>12}" for w in args.workers))
        for translation in TRANSLATIONS:
            bundle = build_datasets(DataConfig(dataset="toycity", root=str(root), translation=translation, **crops))
            rates = [samples_per_second(bundle.source, w, args.epochs) for w in args.workers]
            print(f"{'source S_d+S_n+label, ' + translation:<34} " + " ".join(f"{r:>10.1f}/s" for r in rates))
        rates = [samples_per_second(bundle.target, w, args.epochs) for w in args.workers]
        print(f"{'target T_n+T_d':<34} " + " ".join(f"{r:>10.1f}/s" for r in rates))


if __name__ == "__main__":
    main()
