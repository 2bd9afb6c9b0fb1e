"""Wall time of `ccdistill --help` and `ccdistill train --help` (goal < 1 s each).

Run:  .venv/bin/python benchmarks/bench_cli_help.py  [--repeats 5]

Each figure is the fastest of `--repeats` fresh interpreters (`python -m ccdistill ...`), so the
import cost is paid every time, as a user typing the command pays it. Building the parser
imports no torch (the commands import it when they run); `import torch` alone is timed for
comparison. On a machine shared with other jobs the figures swing with their load.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GOAL_S = 1.0


def fastest(command: list[str], repeats: int) -> float:
    """Fastest wall time in seconds of `command` over `repeats` runs (it must exit 0)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(command, cwd=REPO, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    for label, argv in (("ccdistill --help", ["--help"]), ("ccdistill train --help", ["train", "--help"])):
        seconds = fastest([sys.executable, "-m", "ccdistill", *argv], args.repeats)
        verdict = "met" if seconds < GOAL_S else "NOT met"
        print(f"{label:<24} {seconds:6.3f} s  (goal < {GOAL_S:.0f} s: {verdict})")
    torch_s = fastest([sys.executable, "-c", "import torch"], max(1, args.repeats // 2))
    print(f"{'import torch (reference)':<24} {torch_s:6.3f} s")


if __name__ == "__main__":
    main()
