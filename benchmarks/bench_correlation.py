"""Benchmark of the chunked pixel×pixel cosine matrix, `ccdistill.losses.pixel_correlation`.

Run:  .venv/bin/python benchmarks/bench_correlation.py  [--device cpu|cuda] [--tokens 4096]

Prints two figures, each next to its goal:

(a) throughput: time of a bare `torch.mm(a, b.T, out=out)` divided by the time of
    `pixel_correlation(a, b, out=out)` on the same P×D and Q×D inputs (median of several
    interleaved repeats, same thread count). Goal ≥ 0.5: normalising and chunking may cost at
    most as much again as the matrix product itself. On CPU it is printed for one thread and
    for torch's default thread count: on a machine shared with other jobs the multi-threaded
    figure swings with their load (each chunk is one more parallel region to schedule), while
    the one-thread figure is reproducible.
(b) peak extra memory of one call, relative to the size of the P×Q output. Goal ≤ 2.0.
    CPU: measured in a fresh Python process per case. Inputs (and, for the preallocated case,
    the output) are created and touched, the BLAS is warmed up on a small product, then the
    process's current resident set (/proc/self/statm) is read; after the call the peak
    resident set (`resource.getrusage(RUSAGE_SELF).ru_maxrss`) is read. Extra = peak after −
    resident before. If an earlier transient (imports) was higher than the call's peak, this
    over-states the extra memory, so the figure is conservative.
    CUDA: `torch.cuda.max_memory_allocated()` after `reset_peak_memory_stats()`, minus the
    memory allocated before the call.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

from ccdistill.losses import pixel_correlation

THROUGHPUT_GOAL = 0.5
MEMORY_GOAL = 2.0
MEMORY_CASES = ("chunked", "chunked_out", "dense")


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _timed(fn, device: torch.device) -> float:
    _sync(device)
    start = time.perf_counter()
    fn()
    _sync(device)
    return time.perf_counter() - start


def throughput(tokens: int, dim: int, chunk: int, repeats: int, device: torch.device) -> float:
    """Median time of bare mm / median time of pixel_correlation (interleaved repeats)."""
    a = torch.randn(tokens, dim, device=device)
    b = torch.randn(tokens, dim, device=device)
    out = torch.empty(tokens, tokens, device=device)

    def bare() -> None:
        torch.mm(a, b.T, out=out)

    def chunked() -> None:
        pixel_correlation(a, b, chunk, out=out)

    bare(), chunked()  # warm-up: kernel selection, thread pools, page faults on `out`
    t_bare, t_chunked = [], []
    for _ in range(repeats):
        t_bare.append(_timed(bare, device))
        t_chunked.append(_timed(chunked, device))
    med_bare, med_chunked = statistics.median(t_bare), statistics.median(t_chunked)
    gflop = 2 * tokens * tokens * dim / 1e9
    print(f"    bare torch.mm      median {med_bare * 1e3:8.2f} ms  "
          f"({gflop / med_bare:6.1f} GFLOP/s)")
    print(f"    pixel_correlation  median {med_chunked * 1e3:8.2f} ms  (chunk_size={chunk})")
    return med_bare / med_chunked


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _maxrss_bytes() -> int:
    # Linux reports ru_maxrss in KiB.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _measure_cpu_memory(case: str, tokens: int, dim: int, chunk: int) -> dict:
    """Runs inside the fresh process: one call of `case`, its extra peak memory in bytes."""
    a = torch.randn(tokens, dim)
    b = torch.randn(tokens, dim)
    out = torch.zeros(tokens, tokens) if case == "chunked_out" else None
    small = torch.randn(64, dim)
    pixel_correlation(small, small, 16)  # load and warm the BLAS outside the measurement
    before = _rss_bytes()
    maxrss_before = _maxrss_bytes()
    if case == "dense":
        result = F.normalize(a, dim=1) @ F.normalize(b, dim=1).T
    else:
        result = pixel_correlation(a, b, chunk, out=out)
    after = _maxrss_bytes()
    assert result.shape == (tokens, tokens)
    return {"extra": after - before, "rss_before": before, "maxrss_before": maxrss_before}


def memory_cpu(case: str, tokens: int, dim: int, chunk: int) -> dict:
    cmd = [sys.executable, os.path.abspath(__file__), "--measure-memory", case,
           "--tokens", str(tokens), "--dim", str(dim), "--chunk", str(chunk)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True,
                          env={**os.environ, "OMP_NUM_THREADS": str(torch.get_num_threads())})
    return json.loads(done.stdout.strip().splitlines()[-1])


def memory_cuda(case: str, tokens: int, dim: int, chunk: int, device: torch.device) -> dict:
    a = torch.randn(tokens, dim, device=device)
    b = torch.randn(tokens, dim, device=device)
    out = torch.zeros(tokens, tokens, device=device) if case == "chunked_out" else None
    pixel_correlation(a[:64], b[:64], 16)
    torch.cuda.synchronize(device)
    torch.cuda.reset_peak_memory_stats(device)
    before = torch.cuda.memory_allocated(device)
    if case == "dense":
        result = F.normalize(a, dim=1) @ F.normalize(b, dim=1).T
    else:
        result = pixel_correlation(a, b, chunk, out=out)
    torch.cuda.synchronize(device)
    extra = torch.cuda.max_memory_allocated(device) - before
    del result
    return {"extra": extra}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--tokens", type=int, default=4096, help="P = Q, pixels per image")
    parser.add_argument("--dim", type=int, default=128, help="D, embedding dimension")
    parser.add_argument("--chunk", type=int, default=1024,
                        help="chunk_size (the API default)")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--measure-memory", choices=MEMORY_CASES, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.measure_memory:  # the child process of the CPU memory figure
        print(json.dumps(_measure_cpu_memory(args.measure_memory, args.tokens, args.dim,
                                             args.chunk)))
        return

    device = torch.device(args.device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(f"pixel_correlation benchmark: P = Q = {args.tokens}, D = {args.dim}, "
          f"chunk_size = {args.chunk}, device {name}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads by default, load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")

    print("(a) throughput relative to a bare torch.mm of the same shape")
    default_threads = torch.get_num_threads()
    thread_counts = [default_threads] if device.type == "cuda" else sorted({1, default_threads})
    for threads in thread_counts:
        torch.set_num_threads(threads)
        ratio = throughput(args.tokens, args.dim, args.chunk, args.repeats, device)
        verdict = "met" if ratio >= THROUGHPUT_GOAL else "NOT met"
        where = "" if device.type == "cuda" else f" at {threads} thread(s)"
        print(f"(a) throughput = {ratio:.2f} × bare torch.mm{where}   "
              f"(goal ≥ {THROUGHPUT_GOAL}: {verdict})")
    torch.set_num_threads(default_threads)

    output_bytes = args.tokens * args.tokens * 4
    print(f"(b) peak extra memory relative to the {output_bytes / 2**20:.0f} MiB output")
    figures = {}
    for case in MEMORY_CASES:
        if device.type == "cuda":
            m = memory_cuda(case, args.tokens, args.dim, args.chunk, device)
        else:
            m = memory_cpu(case, args.tokens, args.dim, args.chunk)
        figures[case] = m["extra"] / output_bytes
        note = {
            "chunked": "pixel_correlation(a, b), output allocated inside",
            "chunked_out": "pixel_correlation(a, b, out=preallocated)",
            "dense": "for comparison: normalize(a) @ normalize(b).T",
        }[case]
        print(f"    {case:<12} extra {m['extra'] / 2**20:8.1f} MiB = {figures[case]:.2f} × output"
              f"   ({note})")
    verdict = "met" if figures["chunked"] <= MEMORY_GOAL else "NOT met"
    print(f"(b) peak extra memory = {figures['chunked']:.2f} × output (default chunk, output "
          f"included)   (goal ≤ {MEMORY_GOAL}: {verdict})")


if __name__ == "__main__":
    main()
