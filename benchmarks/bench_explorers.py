"""Latency of one explorer update, the figure included, at the `cpu` profile's image size.

Run:  OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_explorers.py  [--repeats 40]

Each explorer of `ccdistill.viz` is built once (its cache: forward passes, predictions, sampled
features) and then driven from code with `explorer.update(...)` exactly as a slider move would
drive it: recompute from the cache, redraw the figure, encode the PNG, set the Image and HTML
values. Printed per explorer: the median and 95th percentile of one update (goals ≤ 50 ms and
≤ 100 ms), in wall time and in process CPU time (everything runs on one thread, so the CPU time
is the wall time an idle machine would show; on a shared machine the wall time also holds the
waiting), and for the cosine-map explorer also the map computation alone (`compute`: the cosine
map of the query on the cached features and its upsampling, without the figure; goal ≤ 15 ms).
The verdicts compare the wall times with the goals.

Sizes come from configs/toycity.yaml with profile=cpu: the network input (data.eval_size,
128×256) for the model-driven explorers, the ToyCity frame size (256×512) for the translation
explorer and for the prediction browser's display and scoring. The model is the profile's
architecture, randomly initialised (the latency does not depend on the weights). The embedding
view's t-SNE is computed once before timing (seconds) and its updates then only redraw.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import torch

from ccdistill.config import load_config
from ccdistill.data.transforms import IMAGE_KEYS, resize_sample
from ccdistill.models import CCDistillModel
from ccdistill.viz import (
    CorrelationExplorer,
    CosineMapExplorer,
    EmbeddingView,
    GramExplorer,
    PredictionBrowser,
    TranslationExplorer,
    toy_streams,
)

CONFIG = Path(__file__).resolve().parents[1] / "configs" / "toycity.yaml"
FRAME_SIZE = (256, 512)  # ToyCity's generated frames (generate_toycity's default size)
GOAL_MEDIAN_MS, GOAL_P95_MS, GOAL_COSINE_MS = 50.0, 100.0, 15.0
WARMUP = 3


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def time_calls(call, arguments, repeats: int) -> tuple[list[float], list[float]]:
    """(wall ms, process CPU ms) of `call(**a)` for `repeats` arguments drawn cyclically, after
    a warm-up. With one thread the CPU time is what the wall time would be on an idle machine."""
    cycle = itertools.cycle(arguments)
    for _ in range(WARMUP):
        call(**next(cycle))
    wall, cpu = [], []
    for _ in range(repeats):
        values = next(cycle)
        start, start_cpu = time.perf_counter(), time.process_time()
        call(**values)
        wall.append(1000 * (time.perf_counter() - start))
        cpu.append(1000 * (time.process_time() - start_cpu))
    return wall, cpu


def build(arch: str, size: tuple[int, int]) -> dict:
    """Every explorer with its inputs, and the update arguments each is driven with."""
    torch.manual_seed(0)
    model = CCDistillModel(arch, weights=None).eval()
    height, width = size
    batch = toy_streams(n=2, size=size, seed=0)
    one = {s: batch[s][0] for s in ("S_d", "S_n", "T_d", "T_n")}
    frames = toy_streams(n=4, size=FRAME_SIZE, seed=1)
    # The evaluation setting: the network sees eval_size, IoU is scored on the frame-size label.
    split = {"night": np.stack([resize_sample({"image": im}, size, IMAGE_KEYS)["image"] for im in frames["T_n"]]),
             "day": np.stack([resize_sample({"image": im}, size, IMAGE_KEYS)["image"] for im in frames["T_d"]]),
             "label": frames["label_T_n"]}
    baseline = CCDistillModel(arch, weights=None).deploy("day").eval()
    queries = [{"x": int(x), "y": int(y)} for x, y in zip(np.linspace(3, width - 4, 17), np.linspace(height - 4, 3, 17))]
    embedding = EmbeddingView({"before": baseline, "after": model.deploy()},
                              {"S_n": batch["S_n"], "T_n": batch["T_n"]},
                              {"S_n": batch["label"], "T_n": batch["label_T_n"]})
    embedding.update(method="tsne")  # the one-off t-SNE, cached from here on
    return {
        "cosine map": (CosineMapExplorer(model, one), queries),
        "correlation": (CorrelationExplorer(model, batch),
                        [{"granularity": g, "grid": k} for g in ("image", "token") for k in (2, 4, 8)]),
        "Gram/style": (GramExplorer(model, size=size),
                       [{"night": round(float(t), 2)} for t in np.arange(0.05, 1.0001, 0.05)]),
        "translation": (TranslationExplorer(frames["S_d"][0], frames["T_n"][1], true_night=frames["S_n"][0]),
                        [{"method": m, "beta": b} for m in ("fda", "lab", "relight", "true night")
                         for b in (0.01, 0.05)]),
        "prediction browser": (PredictionBrowser({"source-only": baseline, "CCDistill": model.deploy()}, split),
                               [{"index": i, "domain": d} for i in range(4) for d in ("night", "day")]),
        "embedding view": (embedding,
                           [{"method": m, "colour": c} for m in ("pca", "tsne") for c in ("class", "domain")]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=40, help="timed updates per explorer")
    args = parser.parse_args()
    config = load_config(CONFIG, ["profile=cpu"])
    size = tuple(config.data.eval_size)
    print(f"arch {config.model.arch} (random init), network input {size[0]}×{size[1]}, frames "
          f"{FRAME_SIZE[0]}×{FRAME_SIZE[1]}, torch threads {torch.get_num_threads()}, {args.repeats} updates each")
    explorers = build(config.model.arch, size)
    print(f"{'explorer update (figure included)':<36} {'median ms':>10} {'p95 ms':>8} {'CPU median':>11} "
          f"{'CPU p95':>8}   goal ≤ {GOAL_MEDIAN_MS:.0f} / {GOAL_P95_MS:.0f} ms")
    for name, (explorer, arguments) in explorers.items():
        report(name, *time_calls(explorer.update, arguments, args.repeats), GOAL_MEDIAN_MS, GOAL_P95_MS)
    cosine, queries = explorers["cosine map"]
    values = cosine.values()
    compute = lambda x, y: cosine.compute(x=x, y=y, pair=values["pair"], space=values["space"])  # noqa: E731
    report("cosine-map update alone (no figure)", *time_calls(compute, queries, args.repeats), GOAL_COSINE_MS, None)


def report(name: str, wall: list[float], cpu: list[float], goal_median: float, goal_p95: float | None) -> None:
    median, p95 = statistics.median(wall), percentile(wall, 95)
    met = median <= goal_median and (goal_p95 is None or p95 <= goal_p95)
    goal = f"≤ {goal_median:.0f}" + (f" / {goal_p95:.0f}" if goal_p95 is not None else "")
    print(f"{name:<36} {median:>10.1f} {p95:>8.1f} {statistics.median(cpu):>11.1f} {percentile(cpu, 95):>8.1f}   "
          f"{goal}: {'met' if met else 'MISSED'}")

if __name__ == "__main__":
    main()
