"""The run folder: every file a training writes into `output/`, named once (`names.py`), with
the writer and the reader of each side by side.

| module | what it holds |
|---|---|
| `names.py` | every file name and pattern of a run folder (read first) |
| `files.py` | atomic writes (`write_atomic`) and what is wrong with a path that should be a file |
| `checkpoint.py` | the checkpoint formats: save, read safely, `load_deployed`, RNG states, finiteness |
| `checkpointing.py` | a training's checkpoints: resume, `ckpt_*.pt` with rotation, `best.pt`, `deploy.pt` |
| `resume.py` | `train.resume`: which changes a resume accepts, moving a run aside, the config history |
| `lock.py` | one training per folder (`train.lock`) |
| `stopping.py` | SIGTERM/SIGINT: stop after the step, save, say how to resume |
| `log.py` | `log.csv`, `val.csv`, TensorBoard: the writer (`RunLogger`) and the reader (`read_log`) |
| `timing.py` | `timing.json`: cumulative training seconds at each checkpoint (the experiments) |
| `folder.py` | `RunFolder`: the folder as a training sees it (lock, preparation, records, messages) |

This `__init__` imports only the names, so that reading a name costs no torch import.
"""

from ccdistill.runfolder.names import (
    BEST_NAME, CHECKPOINT_GLOB, CHECKPOINT_PATTERN, CONFIG_NAME, CONFIG_RESUME_GLOB, DEPLOY_NAME, ENVIRONMENT_NAME,
    LOCK_NAME, LOG_NAME, METRICS_NAME, TENSORBOARD_FOLDER, TIMING_NAME, VALIDATION_LOG_NAME, checkpoint_iteration,
    checkpoint_name, history_name,
)

__all__ = ["BEST_NAME", "CHECKPOINT_GLOB", "CHECKPOINT_PATTERN", "CONFIG_NAME", "CONFIG_RESUME_GLOB", "DEPLOY_NAME",
           "ENVIRONMENT_NAME", "LOCK_NAME", "LOG_NAME", "METRICS_NAME", "TENSORBOARD_FOLDER", "TIMING_NAME",
           "VALIDATION_LOG_NAME", "checkpoint_iteration", "checkpoint_name", "history_name"]
