"""A training in its own process that a test can pause, signal or kill at a precise step.

    python tests/reliability/run_until.py [--hold-after-step N --marker FILE --release FILE]
                                          [--signal-during-step N --signal TERM] -- key=value ...

--hold-after-step: after step N, touch MARKER and wait (up to 120 s) until RELEASE exists, so
the test can send a signal, start a second training or SIGKILL this one while it holds the lock.
--signal-during-step: send this process the signal between backward and optimiser step of N.
Exit status 3 and the message on stderr for a CCDistillError (as the command line prints it).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path

from ccdistill.config import load_config
from ccdistill.errors import CCDistillError
from ccdistill.train import Trainer, train

CONFIG = Path(__file__).resolve().parents[2] / "configs" / "toycity.yaml"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hold-after-step", type=int, default=0)
    parser.add_argument("--marker", default="")
    parser.add_argument("--release", default="")
    parser.add_argument("--signal-during-step", type=int, default=0)
    parser.add_argument("--signal", default="TERM")
    parser.add_argument("overrides", nargs="*")
    args = parser.parse_args()

    def hook(event: str, trainer: Trainer) -> None:
        if event == "after_backward" and trainer.iteration + 1 == args.signal_during_step:
            os.kill(os.getpid(), getattr(signal, f"SIG{args.signal}"))
        if event == "after_step" and trainer.iteration == args.hold_after_step:
            Path(args.marker).touch()
            deadline = time.monotonic() + 120
            while not Path(args.release).exists() and time.monotonic() < deadline:
                time.sleep(0.05)

    try:
        train(load_config(CONFIG, args.overrides), hooks=[hook])
    except CCDistillError as error:
        print(f"error: {error}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
