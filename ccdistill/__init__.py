"""ccdistill: CCDistill (Cross-Domain Correlation Distillation, CVPR 2022) for day-to-night
unsupervised domain adaptation of semantic segmentation, with the ToyCity benchmark and
teaching notebooks.

The four training streams use the paper's symbols throughout:
S_d source day, S_n source night (S_d translated to night), T_d target day, T_n target night.
"""

__version__ = "0.1.0"
