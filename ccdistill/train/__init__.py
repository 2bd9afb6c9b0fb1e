"""The training engine (`ccdistill train` runs it; ccdistill/cli/train.py).

One step is the loss equation of SPEC 4.6:

    L = L_seg(P_Sd) + L_seg(P_Sn) + λ_pseudo L_pseudo + λ_cdc L_CDC + λ_js L_JS + λ_cds L_CDS

computed by `ccdistill.losses.ccdistill_loss` on the streams the variant needs. The same
entry point runs on one CPU, one GPU or several processes under `torchrun` (DDP).

| module | what it holds |
|---|---|
| `trainer.py` | `Trainer` (read first: construction and the `fit` loop) and `train` |
| `step.py` | the step: poly learning rate, `compute_losses` (the loss equation), backward |
| `forward.py` | `StreamPlan` (which streams a variant needs), `StreamForward`, `stream_images` |
| `build.py` | seeds, loaders, model, DDP wrapper, mixed precision, optimiser from a Config |
| `checkpointing.py` | resume, `ckpt_*.pt`, `best.pt`, `deploy.pt`, the finiteness checks |
| `run_folder.py` | the run folder's lock, fresh/orphan handling, config history, messages |
| `runlog.py` | `log.csv` / TensorBoard logging and the progress bar |
"""

from ccdistill.train.step import poly_lr  # the training notebook plots the schedule from here
from ccdistill.train.trainer import Hook, Trainer, train

__all__ = ["Hook", "Trainer", "poly_lr", "train"]
