"""`ccdistill bench`: inference and training-step cost of CCDistill against plain segmenters."""

from __future__ import annotations

import argparse

from ccdistill.cli.args import device_name, parse_size, positive_int


def run(args: argparse.Namespace) -> int:
    import torch

    from ccdistill.evaluation.bench import CPU_ARCH, PAPER_ARCH, run_benchmarks
    from ccdistill.runtime.distributed import resolve_device

    device = resolve_device(args.device)
    torch.manual_seed(0)
    archs = [(CPU_ARCH, parse_size(args.cpu_size, "--cpu-size"))]
    if not args.skip_paper:
        archs.append((PAPER_ARCH, parse_size(args.paper_size, "--paper-size")))
    print(f"device {device}, {torch.get_num_threads()} CPU threads, batch 1 inference, batch 2 per stream training")
    run_benchmarks(archs, device, args.repeats, tuple(args.which))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("bench", help="inference and training-step cost of CCDistill vs plain segmenters")
    parser.add_argument("--device", type=device_name, default="auto")
    parser.add_argument("--cpu-size", default="256x512", help="resolution for the CPU architecture")
    parser.add_argument("--paper-size", default="512x512", help="resolution for DeepLab-v2 ResNet-101")
    parser.add_argument("--repeats", type=positive_int, default=10)
    parser.add_argument("--skip-paper", action="store_true", help="skip DeepLab-v2 R101 (slow on CPU)")
    parser.add_argument("--which", nargs="+", default=["inference", "step"],
                        choices=["inference", "step", "overhead"])
    parser.set_defaults(func=run)
