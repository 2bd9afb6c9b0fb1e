"""The term diagnostic: every enabled term reported, shares summing to one, and the gradient
norms measured at M_n's features (M_d's own L_seg reaches none of them)."""

from __future__ import annotations

import math

import pytest

from ccdistill.config import load_config
from ccdistill.train.diagnostics import format_reports, term_reports
from ccdistill.train import Trainer

from .helpers import CONFIG, ci_overrides


def test_term_reports_cover_every_enabled_term(toycity_root, tmp_path):
    trainer = Trainer(load_config(CONFIG, ci_overrides(toycity_root, tmp_path / "run", "variant=full")))
    rows = term_reports(trainer, next(trainer.source), next(trainer.target))
    by_term = {r.term: r for r in rows}
    assert set(by_term) == {"seg_day", "seg_night", "pseudo", "cdc", "js", "cds"}
    assert math.isclose(sum(r.grad_share for r in rows), 1.0, rel_tol=1e-6)
    assert math.isclose(sum(r.value_share for r in rows), 1.0, rel_tol=1e-6)
    assert by_term["seg_day"].grad_norm == 0.0  # S_d goes through M_d only
    assert all(by_term[t].grad_norm > 0 for t in ("seg_night", "pseudo", "cdc", "cds"))
    assert by_term["js"].weight == pytest.approx(0.1)  # past the warm-up by default
    assert "grad share" in format_reports(rows)
