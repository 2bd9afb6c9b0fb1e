"""Distillation overhead (issue: core, figure c): time of projection head + CDC + JS + CDS,
forward and backward, divided by the time of the segmenters' own forward and backward on the
same four-stream batch (batch 2 per stream). Goal: <= 0.10.

    .venv/bin/python benchmarks/bench_distillation.py [--skip-paper]
"""

from __future__ import annotations

import argparse

import torch

from ccdistill.evaluation.bench import CPU_ARCH, PAPER_ARCH, distillation_overhead_benchmark
from ccdistill.runtime.distributed import resolve_device


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-paper", action="store_true", help="skip DeepLab-v2 R101 at 512x512")
    args = parser.parse_args()
    device = resolve_device(args.device)
    torch.manual_seed(0)
    runs = [(CPU_ARCH, (256, 512))] + ([] if args.skip_paper else [(PAPER_ARCH, (512, 512))])
    print(f"device {device}, {torch.get_num_threads()} threads, batch 2 per stream")
    for arch, size in runs:
        r = distillation_overhead_benchmark(arch, size, device, repeats=args.repeats)
        print(f"{arch:<22} {size[0]}x{size[1]}  head+CDC+JS+CDS {1e3 * r['distillation_s']:9.1f} ms  "
              f"segmenters {1e3 * r['segmenters_s']:9.1f} ms  overhead ratio {r['ratio']:.3f} (goal <= 0.10)",
              flush=True)


if __name__ == "__main__":
    main()
