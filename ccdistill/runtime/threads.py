"""How training and the notebooks use the CPU's threads on a machine they share
(docs/TRAINING.md, "Threads on a shared machine").

torch runs its CPU kernels on OpenMP threads, one per core. GNU OpenMP lets a thread that
reaches a barrier first spin for a while before it sleeps; when another program holds a core,
the thread it displaced arrives late at every barrier, and the others spin through their whole
time slice waiting for it: a training step then takes several times longer than with one
thread fewer. `configure_threads` sets the policy once, before torch loads OpenMP (OpenMP reads
its environment only then): `ccdistill/__init__.py` calls `set_wait_policy`, so the command line
and the notebooks (whose first line imports ccdistill) get it without asking, and the Trainer
calls `configure_threads` for the thread count.

The setting comes from `$CCDISTILL_THREADS`:

- `auto` (default): OMP_WAIT_POLICY=PASSIVE, unless the user set OMP_WAIT_POLICY: a waiting
  thread sleeps at once, so a busy machine costs the time the competitor takes, not ten times;
- `off`: leave torch and OpenMP exactly as they come (spin-wait, one thread per core);
- a whole number N: `auto`, and torch.set_num_threads(N) once torch is imported.

This module imports nothing heavy: it must run before torch is imported.
"""

from __future__ import annotations

import os
import sys

from ccdistill.errors import ConfigError

THREADS_ENV = "CCDISTILL_THREADS"
WAIT_POLICY = "PASSIVE"


def thread_setting(value: str | None = None) -> str | int:
    """`value` (default: $CCDISTILL_THREADS, else "auto") checked: "auto", "off" or a count ≥ 1."""
    raw = (os.environ.get(THREADS_ENV, "auto") if value is None else str(value)).strip().lower()
    if raw in ("auto", "off"):
        return raw
    if raw.isdigit() and int(raw) >= 1:
        return int(raw)
    raise ConfigError(f"{THREADS_ENV}={raw!r} is not a thread setting; use auto (the default), off, "
                      "or a whole number of threads ≥ 1, e.g. CCDISTILL_THREADS=1")


def set_wait_policy() -> None:
    """OMP_WAIT_POLICY=PASSIVE unless the user set one or $CCDISTILL_THREADS is "off"; effective
    only before torch is first imported. Never raises (it runs on `import ccdistill`): a bad
    $CCDISTILL_THREADS is reported by `configure_threads`."""
    if os.environ.get(THREADS_ENV, "").strip().lower() != "off" and "torch" not in sys.modules:
        os.environ.setdefault("OMP_WAIT_POLICY", WAIT_POLICY)


def configure_threads(value: str | None = None) -> str | int:
    """Apply the thread setting (`thread_setting`) and return it: the wait policy (if torch is
    not imported yet) and, for a number, torch.set_num_threads."""
    setting = thread_setting(value)
    if setting == "off":
        return setting
    set_wait_policy()
    if isinstance(setting, int):
        import torch

        torch.set_num_threads(setting)
    return setting
