"""Benchmark of the ToyCity generator and renderer.

Run:  .venv/bin/python benchmarks/bench_toycity.py  [--n-train 20] [--workers 2]

Prints two figures, each next to its goal:

(a) generation throughput at 256×512: `generate_toycity` into a temporary folder (everything
    included: rasterising, rendering, PNG encoding, checksums, writing), reported as RGB images
    written per second (goal ≥ 20) and as files per second (RGB + label PNGs). One source scene
    gives two RGB images (day, true night); one target pair gives two (day, night).
(b) render-only latency at 128×256: `render(scene, night)` on a cached scene, the call the
    notebooks' sliders make (median over night strengths in [0, 1]; goal < 100 ms). The one-off
    `sample_scene` (rasterising) time is printed for reference.

On a machine shared with other jobs, both figures swing with their load.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from ccdistill.toycity import generate_toycity, render, sample_scene

GENERATION_SIZE = (256, 512)
RENDER_SIZE = (128, 256)
GOAL_IMAGES_PER_SECOND = 20.0
GOAL_RENDER_MS = 100.0


def generation_throughput(n_train: int, n_val: int, n_test: int, workers: int | None) -> tuple[float, float, float]:
    """(RGB images/s, files/s, seconds) of one generate_toycity run in a temporary folder."""
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        manifest = generate_toycity(Path(folder) / "toycity", size=GENERATION_SIZE, n_train=n_train, n_val=n_val,
                                    n_test=n_test, progress=False, workers=workers)
        seconds = time.perf_counter() - start
    files = [path for path in manifest["files"] if path.endswith(".png")]
    rgb = [path for path in files if "leftImg8bit" in path or "rgb_anon" in path]
    return len(rgb) / seconds, len(files) / seconds, seconds


def render_latency(repeats: int) -> tuple[float, float]:
    """(median render ms, median sample_scene ms) at RENDER_SIZE."""
    raster_ms, render_ms = [], []
    for seed, city in enumerate(("source", "target") * 3):
        start = time.perf_counter()
        scene = sample_scene(seed, city, RENDER_SIZE)
        raster_ms.append(1000 * (time.perf_counter() - start))
        for night in np.linspace(0.0, 1.0, repeats):
            start = time.perf_counter()
            render(scene, float(night), noise_seed=seed)
            render_ms.append(1000 * (time.perf_counter() - start))
    return statistics.median(render_ms), statistics.median(raster_ms)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n-train", type=int, default=20)
    parser.add_argument("--n-val", type=int, default=5)
    parser.add_argument("--n-test", type=int, default=5)
    parser.add_argument("--workers", type=int, default=None, help="generator threads (default: up to 2)")
    parser.add_argument("--repeats", type=int, default=11, help="night strengths rendered per scene")
    args = parser.parse_args()

    images, files, seconds = generation_throughput(args.n_train, args.n_val, args.n_test, args.workers)
    status = "ok" if images >= GOAL_IMAGES_PER_SECOND else "BELOW GOAL"
    print(f"generation {GENERATION_SIZE[0]}x{GENERATION_SIZE[1]}: {images:.1f} RGB images/s "
          f"({files:.1f} PNG files/s, {seconds:.1f} s)  goal >= {GOAL_IMAGES_PER_SECOND:.0f}  [{status}]")
    render_ms, raster_ms = render_latency(args.repeats)
    status = "ok" if render_ms < GOAL_RENDER_MS else "ABOVE GOAL"
    print(f"render {RENDER_SIZE[0]}x{RENDER_SIZE[1]}: {render_ms:.1f} ms median  goal < {GOAL_RENDER_MS:.0f}  "
          f"[{status}]  (sample_scene, once per scene: {raster_ms:.1f} ms)")


if __name__ == "__main__":
    main()
