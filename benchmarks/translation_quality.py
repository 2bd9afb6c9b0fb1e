"""How close does each S_d -> S_n translation get to the TRUE source night?

Run:  .venv/bin/python benchmarks/translation_quality.py  [--root data/toycity] [--split train]

ToyCity renders every source scene at true night too (source/leftImg8bit_night, held out from
training), so a translation can be scored against the image it tries to imitate. For each
source-day image of the split, each method translates it with a target-night style reference
(T_n, picked per image exactly as `ccdistill data translate` picks it), and we measure against
the true night image:

- |Δ mean| L*, a*, b*: absolute difference of the per-channel CIE Lab means (global colour and
  brightness), averaged over images;
- |Δ std|  L*, a*, b*: the same for the per-channel standard deviations (contrast);
- SSIM L*: structural similarity of the L* (lightness) channels (Gaussian window σ = 1.5 px),
  i.e. whether the night image has the right local structure and brightness layout (lamp
  pools, lit windows, dark shadows). Both images are first smoothed with a σ = 1 px Gaussian
  so that the true night's sensor noise does not dominate the score.

Rows: `none` (the day image itself), `fda` (β = 0.01 and 0.05), `lab`, `relight`, `reference`
(the T_n reference image itself, resized: right style, wrong content) and `true night` (the
target of the comparison: zeros and 1.0 by construction). Without --root, a modest ToyCity is
generated into a temporary folder first. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image
from scipy import ndimage

from ccdistill.data.colour import rgb_to_lab
from ccdistill.data.offline_translation import reference_for
from ccdistill.data.translate import _resize, fda_translate, lab_translate, relight
from ccdistill.toycity import generate_toycity

SSIM_SIGMA = 1.5
DENOISE_SIGMA = 1.0  # pre-smoothing of both L* channels (sensor noise is not structure)
SSIM_RANGE = 100.0  # L* runs over [0, 100]
SSIM_K1, SSIM_K2 = 0.01, 0.03  # the SSIM paper's stabilising constants
DEFAULT_GENERATION = {"size": (256, 512), "n_train": 24, "n_val": 4, "n_test": 1}

Method = Callable[[np.ndarray, np.ndarray, np.ndarray, np.random.Generator], np.ndarray]
METHODS: dict[str, Method] = {
    "none": lambda day, ref, true, rng: day,
    "fda (β=0.01)": lambda day, ref, true, rng: fda_translate(day, ref, 0.01),
    "fda (β=0.05)": lambda day, ref, true, rng: fda_translate(day, ref, 0.05),
    "lab": lambda day, ref, true, rng: lab_translate(day, ref),
    "relight": lambda day, ref, true, rng: relight(day, rng),
    "reference (T_n image)": lambda day, ref, true, rng: _resize(ref, day.shape[:2]),
    "true night": lambda day, ref, true, rng: true,
}


def read(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Mean SSIM of two H×W float images with values in [0, SSIM_RANGE]."""
    c1, c2 = (SSIM_K1 * SSIM_RANGE) ** 2, (SSIM_K2 * SSIM_RANGE) ** 2
    blur = lambda x: ndimage.gaussian_filter(x, SSIM_SIGMA)  # noqa: E731
    mu_a, mu_b = blur(a), blur(b)
    var_a = blur(a * a) - mu_a**2
    var_b = blur(b * b) - mu_b**2
    cov = blur(a * b) - mu_a * mu_b
    index = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
    return float(index.mean())


def scores(translated: np.ndarray, true_night: np.ndarray) -> np.ndarray:
    """[|Δmean| L a b, |Δstd| L a b, SSIM(L*)] of one image."""
    lab, true = rgb_to_lab(translated), rgb_to_lab(true_night)
    flat, flat_true = lab.reshape(-1, 3), true.reshape(-1, 3)
    mean_gap = np.abs(flat.mean(0) - flat_true.mean(0))
    std_gap = np.abs(flat.std(0) - flat_true.std(0))
    lightness = [ndimage.gaussian_filter(x[..., 0], DENOISE_SIGMA) for x in (lab, true)]
    return np.concatenate([mean_gap, std_gap, [ssim(*lightness)]])


def evaluate(root: Path, split: str, seed: int) -> dict[str, tuple[np.ndarray, float]]:
    """{method: (mean scores over images, ms per image)}."""
    day_folder = root / "source/leftImg8bit" / split
    night_folder = root / "source/leftImg8bit_night" / split
    references = sorted((root / "target/rgb_anon/train/night").rglob("*.png"))
    days = sorted(day_folder.rglob("*_leftImg8bit.png"))
    if not days or not references:
        raise SystemExit(f"{root} holds no source {split} images or no target night images; is it a ToyCity root?")
    results: dict[str, list[np.ndarray]] = {name: [] for name in METHODS}
    seconds = {name: 0.0 for name in METHODS}
    for day_path in days:
        relative = day_path.relative_to(day_folder)
        day, true_night = read(day_path), read(night_folder / relative)
        index, _ = reference_for(relative.as_posix(), seed, len(references))
        reference = read(references[index])
        for name, method in METHODS.items():
            rng = np.random.default_rng([seed, index])
            start = time.perf_counter()
            translated = method(day, reference, true_night, rng)
            seconds[name] += time.perf_counter() - start
            results[name].append(scores(translated, true_night))
    return {name: (np.mean(rows, axis=0), 1000 * seconds[name] / len(days)) for name, rows in results.items()}


def markdown(results: dict[str, tuple[np.ndarray, float]], count: int) -> str:
    header = ("| method | \\|Δ mean\\| L* | a* | b* | \\|Δ std\\| L* | a* | b* | SSIM L* ↑ | ms / image |\n"
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    rows = [
        f"| {name} | " + " | ".join(f"{v:.2f}" for v in values[:6]) + f" | {values[6]:.3f} | {ms:.1f} |"
        for name, (values, ms) in results.items()
    ]
    note = f"Mean over {count} source images; distances to the true source night (lower is better)."
    return "\n".join([header, *rows, "", note])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", default=None, help="an existing ToyCity root (default: generate a small one)")
    parser.add_argument("--split", default="train", choices=("train", "val"))
    parser.add_argument("--seed", type=int, default=0, help="reference choice and relight noise")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(args.root) if args.root else Path(folder) / "toycity"
        if args.root is None:
            generate_toycity(root, progress=False, **DEFAULT_GENERATION)
        results = evaluate(root, args.split, args.seed)
        count = len(list((root / "source/leftImg8bit" / args.split).rglob("*_leftImg8bit.png")))
    print(markdown(results, count))


if __name__ == "__main__":
    main()
