"""The ToyCity experiment registry (issue 10): which runs make docs/RESULTS.md, and the machinery
that runs them resumably, one at a time, and turns their result files into the table and figures.

- ``registry.yaml`` — the rows: id, config, variant, overrides, seeds, the paper claim tested;
- ``registry``      — :func:`load_registry`, :func:`run_config` (the resolved Config of a run);
- ``runner``        — :class:`Runner`: train (resume), evaluate, write one result JSON per run;
- ``evaluation``    — the deployed model on target-night val/test (and the domain-shift splits);
- ``results``       — the result-file format (written atomically by ccdistill/runfolder/files.py);
- ``analysis``      — the measured correlation quantities of a trained run (`analyse`);
- ``table``         — the table's statistics, from the result files only (paired comparisons, goals);
- ``report``        — docs/RESULTS_TABLE.md rendered from those statistics;
- ``seeds``, ``lab`` — the ablation lab of notebook 06: the results seed by seed, figures, a run's config;
- ``figures``       — predictions, loss curves, correlation matrices, per-class IoU;
- ``cli``           — ``python -m ccdistill.experiments run|status|table|figures``.
"""

from ccdistill.experiments.registry import REGISTRY_FILE, Registry, Row, Run, load_registry, run_config
from ccdistill.experiments.runner import Runner

__all__ = ["REGISTRY_FILE", "Registry", "Row", "Run", "Runner", "load_registry", "run_config"]
