"""Every name in a run folder, defined once. A training writes into `output/`:

| name | what | written by | read by |
|---|---|---|---|
| `ckpt_<7 digits>.pt` | training checkpoint every train.checkpoint_every iterations (exact resume) | `checkpointing.py` | `checkpointing.py`, `resume.py` |
| `best.pt` | training state at the best validation mIoU | `checkpointing.py` | model selection |
| `deploy.pt` | the deployable segmenter (M_n; M_d for source_only) and its meta | `checkpointing.py` | `checkpoint.load_deployed` |
| `log.csv`, `val.csv` | every loss term; each validation | `log.py` (`RunLogger`) | `log.py` (`read_log`) |
| `tb/` | TensorBoard | `log.py` | `tensorboard --logdir runs` |
| `config.yaml`, `config.resume-<7 digits>.yaml` | the configuration history | `resume.py` (`write_history`) | `resume.py` (`stored_config`) |
| `environment.yaml` | versions, device, git commit of each start or resume | `folder.py` | people |
| `train.lock` | the lock of the training that uses the folder | `lock.py` | `lock.py` |
| `timing.json` | cumulative training seconds at each checkpoint (experiments) | `timing.py` | `timing.py` |
| `metrics.json` | `ccdistill eval --output` | ccdistill/cli/eval.py | people, tests |
| `.<name>.<random>.tmp` | a write in progress (`files.write_atomic`) | `files.py` | `checkpoint.remove_orphaned_temporaries` |

This module imports nothing but `re`: every other module may use it.
"""

from __future__ import annotations

import re

DEPLOY_NAME = "deploy.pt"
BEST_NAME = "best.pt"
CHECKPOINT_GLOB = "ckpt_*.pt"
CHECKPOINT_PATTERN = re.compile(r"^ckpt_(\d{7})\.pt$")
CHECKPOINT_TEMPLATE = "ckpt_<7 digits>.pt"  # how messages name a training checkpoint
LOG_NAME = "log.csv"  # one row per train.log_every iterations: every loss term, lr, seconds
VALIDATION_LOG_NAME = "val.csv"  # one row per validation: mIoU and each class's IoU
TENSORBOARD_FOLDER = "tb"
CONFIG_NAME = "config.yaml"  # the configuration of the first part of a run
CONFIG_RESUME_GLOB = "config.resume-*.yaml"  # one per resumed part whose configuration changed
ENVIRONMENT_NAME = "environment.yaml"  # one YAML document per start or resume of the run
LOCK_NAME = "train.lock"
TIMING_NAME = "timing.json"
METRICS_NAME = "metrics.json"
TEMPORARY_GLOB = ".*.tmp"  # files.write_atomic's temporaries: ".<final name>.<random>.tmp"

# Files a training writes into its folder (moved aside by resume=fresh; the rest is left alone).
RUN_FILES = (CHECKPOINT_GLOB, BEST_NAME, DEPLOY_NAME, LOG_NAME, f"{LOG_NAME}.*", VALIDATION_LOG_NAME,
             f"{VALIDATION_LOG_NAME}.*", CONFIG_NAME, CONFIG_RESUME_GLOB, ENVIRONMENT_NAME, TENSORBOARD_FOLDER,
             TEMPORARY_GLOB, METRICS_NAME)
# The entries of RUN_FILES that a training writes as folders; every other one is a file.
RUN_FOLDERS = (TENSORBOARD_FOLDER,)
# Entries a training never writes itself (kept aside, temporaries): their kind does not matter.
LEFTOVERS = (f"{LOG_NAME}.*", f"{VALIDATION_LOG_NAME}.*", TEMPORARY_GLOB)


def checkpoint_name(iteration: int) -> str:
    """'ckpt_0000600.pt': the training checkpoint saved after `iteration` steps (zero-padded, so
    the names sort by iteration)."""
    return f"ckpt_{iteration:07d}.pt"


def checkpoint_iteration(name: str) -> int | None:
    """The iteration of a `ckpt_<7 digits>.pt` name; None for any other name."""
    match = CHECKPOINT_PATTERN.match(name)
    return int(match.group(1)) if match else None


def history_name(iteration: int) -> str:
    """The configuration record of the part of a run starting at `iteration`."""
    return CONFIG_NAME if iteration == 0 else f"config.resume-{iteration:07d}.yaml"
