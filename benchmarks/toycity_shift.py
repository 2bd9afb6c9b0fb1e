"""How large are ToyCity's two shifts, per preset, without training anything?

Run:  .venv/bin/python benchmarks/toycity_shift.py  [--size 256x512] [--n-train 24] [--presets default hard]
      [--root default=data/toycity --root hard=data/toycity-hard]

For each preset a ToyCity of `--n-train` source scenes and target train pairs is generated into
a temporary folder (or read from `--root PRESET=FOLDER`), and its train split is measured:

- inherent shift (source city vs target city), what CCDistill's correlations must ignore:
  - ΔE S_d–T_d: Euclidean distance between the mean CIE Lab colours of all source-day and all
    target-day images (the global colour difference of camera and city);
  - label TV: total-variation distance ½·Σ|p_c − q_c| between the class frequencies of the source
    labels and the target (night) labels (what is where in the picture: camera geometry,
    street layout, traffic);
  - car+person % S / T: share of the labelled pixels that are cars or persons;
- illumination shift (target day vs target night):
  - L* T_d / T_n: mean lightness of target day and target night images;
  - HF T_n: mean absolute difference between the L* of a target night image and its
    Gaussian-smoothed copy (σ = 1 px), i.e. high-frequency energy, most of it sensor noise;
  - HF/L* T_n: the same divided by the image's mean L*, per image: noise relative to the signal
    (a darker image shows less of everything in absolute L*).

Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

from ccdistill.cli.args import parse_size
from ccdistill.data.colour import rgb_to_lab
from ccdistill.labels import CLASS_NAMES, IGNORE_INDEX, NUM_CLASSES
from ccdistill.toycity import generate_toycity
from ccdistill.toycity.shift import PRESETS, shift_preset

NOISE_SIGMA = 1.0  # px; what the smoothing removes is counted as high-frequency energy
DYNAMIC = (CLASS_NAMES.index("person"), CLASS_NAMES.index("car"))


def read(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path))


def class_frequencies(paths: list[Path]) -> np.ndarray:
    counts = np.zeros(NUM_CLASSES)
    for path in paths:
        label = read(path)
        counts += np.bincount(label[label != IGNORE_INDEX], minlength=NUM_CLASSES)[:NUM_CLASSES]
    return counts / counts.sum()


def mean_lab(paths: list[Path]) -> np.ndarray:
    return np.mean([rgb_to_lab(read(path)).reshape(-1, 3).mean(0) for path in paths], axis=0)


def high_frequency(paths: list[Path]) -> tuple[float, float]:
    """Mean |L* − smoothed L*| over the images (L* in [0, 100]), absolute and relative to the mean L*."""
    values = []
    for path in paths:
        lightness = rgb_to_lab(read(path))[..., 0]
        energy = np.abs(lightness - ndimage.gaussian_filter(lightness, NOISE_SIGMA)).mean()
        values.append((energy, energy / lightness.mean()))
    absolute, relative = np.mean(values, axis=0)
    return float(absolute), float(relative)


def measure(root: Path) -> dict[str, float]:
    """The shift statistics of a ToyCity root's train split (module docstring)."""
    source_days = sorted((root / "source/leftImg8bit/train").rglob("*.png"))
    source_labels = sorted((root / "source/gtFine/train").rglob("*_gtFine_labelTrainIds.png"))
    target_days = sorted((root / "target/rgb_anon/train/day").rglob("*.png"))
    target_nights = sorted((root / "target/rgb_anon/train/night").rglob("*.png"))
    target_labels = sorted((root / "target/gt/train/night").rglob("*_gt_labelTrainIds.png"))
    if not (source_days and target_days and target_nights and target_labels):
        raise SystemExit(f"{root} holds no ToyCity train split; is it a ToyCity root?")
    source_lab, target_day_lab, target_night_lab = (mean_lab(p) for p in (source_days, target_days, target_nights))
    p, q = class_frequencies(source_labels), class_frequencies(target_labels)
    noise, relative_noise = high_frequency(target_nights)
    return {
        "ΔE S_d–T_d": float(np.linalg.norm(source_lab - target_day_lab)),
        "label TV": float(0.5 * np.abs(p - q).sum()),
        "car+person % S": 100 * float(p[list(DYNAMIC)].sum()),
        "car+person % T": 100 * float(q[list(DYNAMIC)].sum()),
        "L* T_d": float(target_day_lab[0]),
        "L* T_n": float(target_night_lab[0]),
        "HF T_n": noise,
        "HF/L* T_n": relative_noise,
    }


def markdown(rows: dict[str, dict[str, float]], note: str) -> str:
    columns = list(next(iter(rows.values())))
    lines = ["| preset | " + " | ".join(columns) + " |", "|---|" + "---:|" * len(columns)]
    lines += [f"| {name} | " + " | ".join(f"{v:.3f}" if k in ("label TV", "HF/L* T_n") else f"{v:.2f}" for k, v in row.items()) + " |"
              for name, row in rows.items()]
    return "\n".join([*lines, "", note])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--presets", nargs="+", default=list(PRESETS), choices=list(PRESETS))
    parser.add_argument("--root", action="append", default=[], metavar="PRESET=FOLDER",
                        help="measure an existing ToyCity for a preset instead of generating one")
    parser.add_argument("--size", default="256x512", help="HEIGHTxWIDTH of the generated ToyCity")
    parser.add_argument("--n-train", type=int, default=24, help="source scenes = target pairs generated")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    given = dict(item.split("=", 1) for item in args.root if "=" in item)
    if len(given) != len(args.root) or set(given) - set(args.presets):
        parser.error(f"--root takes PRESET=FOLDER with PRESET among {args.presets}, got {args.root}")
    size = parse_size(args.size)
    rows = {}
    with tempfile.TemporaryDirectory() as folder:
        for name in args.presets:
            root = Path(given[name]) if name in given else Path(folder) / name
            if name not in given:
                generate_toycity(root, size=size, seed=args.seed, n_train=args.n_train, n_val=1, n_test=1,
                                 progress=False, shift=shift_preset(name))
            rows[name] = measure(root)
    generated = [name for name in args.presets if name not in given]
    parts = ["Train split of a ToyCity per preset"]
    if generated:
        parts.append(f"generated: {', '.join(generated)} ({args.n_train} source scenes and target pairs at "
                     f"{args.size}, seed {args.seed})")
    if given:
        parts.append("read: " + ", ".join(f"{name} from {folder}" for name, folder in given.items()))
    note = "; ".join(parts) + "."
    print(markdown(rows, note))


if __name__ == "__main__":
    main()
