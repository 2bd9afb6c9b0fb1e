"""How much a `cpu`-profile training step slows down when another program keeps a core busy,
for each way of running torch's OpenMP threads (docs/TRAINING.md, "Threads on a shared machine").

Run on an otherwise quiet machine (it makes its own load):

    .venv/bin/python benchmarks/bench_contention.py [--steps 12]

For each policy a fresh process (OpenMP reads its settings once, when torch loads it) times
`--steps` optimiser steps of `full` with the `cpu` profile's model and batch, first alone and
then beside one CPU-bound process (a pure-Python busy loop, like a browser tab or another
notebook), and prints the median step time of each and their ratio. The policies:

- `spin`: OpenMP as torch ships it (one thread per core, GNU OpenMP's default spin-wait);
- `passive`: OMP_WAIT_POLICY=PASSIVE, threads sleep at a barrier instead of spinning;
- `spin 10k`: the spin-wait cut short (GOMP_SPINCOUNT=10000 instead of GNU OpenMP's 300000);
- `one thread`: torch.set_num_threads(1);
- `ccdistill`: what `ccdistill.runtime.threads.configure_threads()` chooses (the package default).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

POLICIES: dict[str, dict[str, str]] = {
    "spin": {"OMP_WAIT_POLICY": "", "CCDISTILL_THREADS": "off"},
    "passive": {"OMP_WAIT_POLICY": "PASSIVE", "CCDISTILL_THREADS": "off"},
    "spin 10k": {"OMP_WAIT_POLICY": "", "GOMP_SPINCOUNT": "10000", "CCDISTILL_THREADS": "off"},
    "one thread": {"OMP_WAIT_POLICY": "", "OMP_NUM_THREADS": "1", "CCDISTILL_THREADS": "off"},
    "ccdistill": {"CCDISTILL_THREADS": "auto"},
}


def worker(steps: int) -> None:
    """Time `steps` training steps in this process; print one JSON line."""
    if os.environ.get("CCDISTILL_THREADS") == "auto":
        from ccdistill.runtime.threads import configure_threads  # before torch loads OpenMP

        configure_threads()
    import torch

    from ccdistill.evaluation.bench import make_training_step
    from ccdistill.config import load_config

    torch.manual_seed(0)
    config = load_config("configs/toycity.yaml", ["profile=cpu", "variant=full", "model.weights=none"])
    step = make_training_step(config, torch.device("cpu"), tuple(config.data.source_crop),
                              tuple(config.data.target_size))
    step()  # warm-up: allocations, OpenMP thread pool
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    print(json.dumps({"median_s": statistics.median(times), "threads": torch.get_num_threads(),
                      "wait_policy": os.environ.get("OMP_WAIT_POLICY", "")}))


def busy_loop() -> subprocess.Popen:
    """One CPU-bound competitor: a Python process that never sleeps."""
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def measure(policy: str, steps: int, loaded: bool) -> dict:
    env = {key: value for key, value in os.environ.items() if key not in ("OMP_WAIT_POLICY", "OMP_NUM_THREADS", "GOMP_SPINCOUNT")}
    env.update({k: v for k, v in POLICIES[policy].items() if v})
    competitor = busy_loop() if loaded else None
    try:
        out = subprocess.run([sys.executable, __file__, "--worker", "--steps", str(steps)], env=env,
                             check=True, capture_output=True, text=True).stdout
    finally:
        if competitor is not None:
            competitor.kill()
            competitor.wait()
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--policies", nargs="+", default=list(POLICIES), choices=list(POLICIES))
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.steps)
        return
    print(f"{os.cpu_count()} CPU cores, load average before: {os.getloadavg()[0]:.2f}; "
          f"`cpu` profile, variant full, {args.steps} steps, median s/step")
    print(f"{'policy':<12} {'threads':>7} {'quiet s':>8} {'loaded s':>9} {'loaded/quiet':>13}")
    quiet_spin = None
    for policy in args.policies:
        quiet, loaded = measure(policy, args.steps, False), measure(policy, args.steps, True)
        quiet_spin = quiet["median_s"] if policy == "spin" else quiet_spin
        print(f"{policy:<12} {quiet['threads']:>7} {quiet['median_s']:>8.3f} {loaded['median_s']:>9.3f} "
              f"{loaded['median_s'] / quiet['median_s']:>13.2f}"
              + (f"   quiet vs spin: {quiet['median_s'] / quiet_spin:.2f}" if quiet_spin else ""), flush=True)


if __name__ == "__main__":
    main()
