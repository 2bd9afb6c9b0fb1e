"""The training engine (`ccdistill train` runs it; ccdistill/cli/train.py).

One step is the loss equation of docs/METHOD.md, section 7:

    L = L_seg(P_Sd) + L_seg(P_Sn) + λ_pseudo L_pseudo + λ_cdc L_CDC + λ_js L_JS + λ_cds L_CDS

computed by `ccdistill.losses.ccdistill_loss` on the streams the variant needs. The same
entry point runs on one CPU, one GPU or several processes under `torchrun` (DDP).

| module | what it holds |
|---|---|
| `trainer.py` | `Trainer` (read first: every part built in its constructor, and the `fit` loop) and `train` |
| `step.py` | `TrainingStep`: poly learning rate, `compute_losses` (the loss equation), backward |
| `forward.py` | `StreamPlan` (which streams a variant needs), `StreamForward`, `stream_images` |
| `build.py` | seeds, loaders, model, DDP wrapper, mixed precision, optimiser from a Config |
| `progress.py` | the progress bar, or plain progress lines outside a terminal |
| `diagnostics.py` | each loss term's value and gradient share at M_n's features |

What a training writes into its run folder (checkpoints, deploy.pt, logs, lock, config history)
is ccdistill/runfolder/.
"""

from ccdistill.train.step import poly_lr  # the training notebook plots the schedule from here
from ccdistill.train.trainer import Hook, Trainer, train

__all__ = ["Hook", "Trainer", "poly_lr", "train"]
