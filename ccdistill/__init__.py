"""ccdistill: CCDistill (Cross-Domain Correlation Distillation, CVPR 2022) for day-to-night
unsupervised domain adaptation of semantic segmentation, with the ToyCity benchmark and
teaching notebooks.

The four training streams use the paper's symbols throughout:
S_d source day, S_n source night (S_d translated to night), T_d target day, T_n target night.
"""

__version__ = "0.1.0"

from ccdistill.runtime.threads import set_wait_policy as _set_wait_policy

# Before anything imports torch: OpenMP threads that sleep rather than spin at a barrier keep a
# training step from slowing tenfold when another program shares the cores (ccdistill/runtime/threads.py).
_set_wait_policy()
