"""What CCDistill costs, measured (`ccdistill bench` runs these; ccdistill/cli/bench.py).

- inference: the deployed model (M_n alone) against a freshly built bare segmenter of the same
  architecture: warm-up, device synchronisation, batch 1 at a stated resolution;
- training step: `full` against `seg_night` on the same four-stream batch;
- distillation overhead: projection head + CDC + JS + CDS (forward and backward) against the
  segmenters' own forward and backward on the same batch.

Timings alternate between the two sides so drifting machine load hits both alike.
"""

from __future__ import annotations

import time
from typing import Callable, Sequence

import torch

from ccdistill.config import Config
from ccdistill.losses import LossWeights, ccdistill_loss, segmentation_loss
from ccdistill.models import CCDistillModel, build_segmenter


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def interleaved_timings(functions: Sequence[Callable[[], object]], device: torch.device,
                        repeats: int = 10, warmup: int = 2) -> list[float]:
    """Fastest seconds of each function over `repeats`, run round-robin after a warm-up.

    The fastest run, not the mean, because interference from the rest of the machine only ever
    adds time (timeit's rule). The order alternates between rounds (A B, B A, ...) so that a
    drift in load or clock speed does not favour the function that always runs first."""
    for _ in range(warmup):
        for fn in functions:
            fn()
    times: list[list[float]] = [[] for _ in functions]
    for round_index in range(repeats):
        pairs = list(zip(functions, times))
        for fn, bucket in (pairs if round_index % 2 == 0 else pairs[::-1]):
            _sync(device)
            start = time.perf_counter()
            fn()
            _sync(device)
            bucket.append(time.perf_counter() - start)
    return [min(bucket) for bucket in times]


def parameter_count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def work_count(module: torch.nn.Module, x: torch.Tensor) -> tuple[int, int]:
    """(FLOPs, operator calls) of one forward pass: counts that repeat exactly, unlike time.

    FLOPs come from `torch.utils.flop_counter` (matrix products and convolutions); operator
    calls count every aten operator dispatched, so a model doing extra elementwise work shows
    up even where FLOPs do not."""
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils.flop_counter import FlopCounterMode

    class _Count(TorchDispatchMode):
        calls = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            _Count.calls += 1
            return func(*args, **(kwargs or {}))

    _Count.calls = 0
    with torch.inference_mode(), FlopCounterMode(display=False) as flops, _Count():
        module(x)
    return int(flops.get_total_flops()), _Count.calls


def inference_benchmark(arch: str, size: tuple[int, int], device: torch.device, repeats: int = 10) -> dict:
    """Deployed CCDistill model vs the bare segmenter, batch 1 at `size` (H, W)."""
    deployed = CCDistillModel(arch, weights=None).deploy().to(device).eval()
    bare = build_segmenter(arch, weights=None).to(device).eval()
    x = torch.randn(1, 3, *size, device=device)
    with torch.inference_mode():
        t_deployed, t_bare = interleaved_timings([lambda: deployed(x), lambda: bare(x)], device, repeats)
    (deployed_flops, deployed_ops), (bare_flops, bare_ops) = work_count(deployed, x), work_count(bare, x)
    return {"arch": arch, "size": size, "deployed_ms": 1e3 * t_deployed, "bare_ms": 1e3 * t_bare,
            "ratio": t_deployed / t_bare, "images_per_s": 1.0 / t_deployed,
            "deployed_params": parameter_count(deployed), "bare_params": parameter_count(bare),
            "deployed_flops": deployed_flops, "bare_flops": bare_flops,
            "deployed_ops": deployed_ops, "bare_ops": bare_ops}


def _four_stream_batch(batch: int, size: tuple[int, int], num_classes: int, device: torch.device,
                       target_size: tuple[int, int] | None = None) -> dict:
    """Random S_d, S_n at `size` and T_d, T_n at `target_size` (default `size`), with labels."""
    sizes = {"S_d": size, "S_n": size, "T_d": target_size or size, "T_n": target_size or size}
    images = {s: torch.randn(batch, 3, *hw, device=device) for s, hw in sizes.items()}
    label = torch.randint(0, num_classes, (batch, *size), device=device)
    return {"images": images, "label": label}


def make_training_step(config: Config, device: torch.device, size: tuple[int, int],
                       target_size: tuple[int, int] | None = None) -> Callable[[], None]:
    """One optimiser step of `config` (its variant, architecture and batch size) on a fixed
    random four-stream batch, computed as the trainer computes it."""
    from ccdistill.train.forward import StreamForward, StreamPlan

    m = config.model
    data = _four_stream_batch(config.train.batch_size, size, m.num_classes, device, target_size)
    model = CCDistillModel.from_config(m, weights=None).to(device).train()
    forward = StreamForward(model, StreamPlan.for_config(config), m.bn_streams)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        outputs, embeddings = forward({s: data["images"][s] for s in forward.plan.streams})
        terms = ccdistill_loss(outputs, embeddings, data["label"], config.loss, config.distill,
                               iteration=10**6, max_iterations=10**6 + 1)  # past the warm-up
        terms["total"].backward()
        optimizer.step()
    return step


def training_step_benchmark(arch: str, size: tuple[int, int], device: torch.device, batch: int = 2,
                            repeats: int = 5) -> dict:
    """One optimiser step of `full`, `seg_night` and `pseudo` on the same four-stream batch.

    `seg_night` forwards only S_d and S_n (its terms need nothing else), so full/seg_night also
    counts the two target streams; `pseudo` forwards all four streams like `full`, so
    full/pseudo is the cost of CDC + JS + CDS and the projection head alone."""
    from ccdistill.config import load_config

    def step(variant: str) -> Callable[[], None]:
        torch.manual_seed(0)  # the same batch for every variant
        config = load_config(overrides={"variant": variant, "model.arch": arch, "model.weights": "none",
                                        "train.batch_size": str(batch)})
        return make_training_step(config, device, size)

    t_full, t_seg, t_pseudo = interleaved_timings([step("full"), step("seg_night"), step("pseudo")],
                                                  device, repeats, warmup=1)
    return {"arch": arch, "size": size, "full_s": t_full, "seg_night_s": t_seg, "pseudo_s": t_pseudo,
            "ratio": t_full / t_seg, "ratio_same_streams": t_full / t_pseudo}


def distillation_overhead_benchmark(arch: str, size: tuple[int, int], device: torch.device, batch: int = 2,
                                    repeats: int = 5) -> dict:
    """(projection head + CDC + JS + CDS, forward and backward) / (segmenters' forward and
    backward with the two supervised losses), on the same four-stream batch."""
    from ccdistill.streams import STREAMS
    from ccdistill.train.forward import StreamForward, StreamPlan

    model = CCDistillModel(arch, weights=None).to(device).train()
    data = _four_stream_batch(batch, size, model.segmenter_night.num_classes, device)
    forward = StreamForward(model, StreamPlan(STREAMS, embeddings=False))
    distillation_only = LossWeights(seg_day=0.0, seg_night=0.0, pseudo=0.0)
    features: dict[str, torch.Tensor] = {}

    def segmenters() -> None:
        model.zero_grad(set_to_none=True)
        outputs, _ = forward(data["images"])
        features.update({stream: out.features.detach() for stream, out in outputs.items()})
        sum(segmentation_loss(out.logits, data["label"]) for out in outputs.values()).backward()

    def distillation() -> None:
        f = {stream: v.requires_grad_(True) for stream, v in features.items()}
        e = model.embed_streams(f)
        terms = ccdistill_loss({stream: (None, v) for stream, v in f.items()}, e, data["label"],
                               distillation_only, iteration=10**6, max_iterations=10**6 + 1)  # past warm-up
        terms["total"].backward()

    segmenters()
    t_distill, t_seg = interleaved_timings([distillation, segmenters], device, repeats, warmup=1)
    return {"arch": arch, "size": size, "distillation_s": t_distill, "segmenters_s": t_seg,
            "ratio": t_distill / t_seg}


CPU_ARCH, PAPER_ARCH = "efficientnet_lite0", "deeplabv2_resnet101"  # the cpu profile's and the paper's


def run_benchmarks(archs: list[tuple[str, tuple[int, int]]], device: torch.device, repeats: int,
                   which: tuple[str, ...] = ("inference", "step")) -> list[str]:
    """Run the chosen benchmarks for each (architecture, size); print and return one line each."""
    lines: list[str] = []

    def emit(line: str) -> None:
        print(line, flush=True)
        lines.append(line)

    for arch, size in archs:
        res = f"{size[0]}x{size[1]}"
        if "inference" in which:
            r = inference_benchmark(arch, size, device, repeats)
            same = "equal" if r["deployed_params"] == r["bare_params"] else "DIFFERENT"
            emit(f"inference  {arch:<22} {res:>9}  deployed {r['deployed_ms']:8.1f} ms  bare {r['bare_ms']:8.1f} ms"
                 f"  ratio {r['ratio']:.3f} (goal 1.00±0.03)  {r['images_per_s']:.1f} images/s  params "
                 f"{r['deployed_params']:,} vs {r['bare_params']:,} ({same})")
            same = "identical" if (r["deployed_flops"], r["deployed_ops"]) == (r["bare_flops"], r["bare_ops"]) else "DIFFERENT"
            emit(f"work       {arch:<22} {res:>9}  deployed {r['deployed_flops'] / 1e9:.3f} GFLOP, {r['deployed_ops']} "
                 f"operator calls  bare {r['bare_flops'] / 1e9:.3f} GFLOP, {r['bare_ops']} operator calls ({same})")
        if "step" in which:
            r = training_step_benchmark(arch, size, device, repeats=max(2, repeats // 2))
            emit(f"train step {arch:<22} {res:>9}  full {r['full_s']:7.3f} s  seg_night {r['seg_night_s']:7.3f} s"
                 f"  ratio {r['ratio']:.3f} (goal <= 1.15; seg_night forwards 2 of the 4 streams)")
            emit(f"train step {arch:<22} {res:>9}  full {r['full_s']:7.3f} s  pseudo {r['pseudo_s']:7.3f} s"
                 f"  ratio {r['ratio_same_streams']:.3f} (same 4 streams forwarded: head + CDC + JS + CDS)")
        if "overhead" in which:
            r = distillation_overhead_benchmark(arch, size, device, repeats=max(2, repeats // 2))
            emit(f"distill    {arch:<22} {res:>9}  head+CDC+JS+CDS {r['distillation_s']:7.3f} s  segmenters "
                 f"{r['segmenters_s']:7.3f} s  ratio {r['ratio']:.3f} (goal <= 0.10)")
    return lines
