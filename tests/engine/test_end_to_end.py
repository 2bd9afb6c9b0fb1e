"""The `ci` profile end to end on ToyCity: data -> train -> eval -> export, via the CLI."""

from __future__ import annotations

import csv

import pytest
import torch

from ccdistill.runfolder.checkpoint import load_deployed
from ccdistill.cli import main
from ccdistill.models import CCDistillModel
from tests.engine.helpers import CONFIG, ci_overrides


@pytest.mark.slow
def test_ci_profile_trains_full_then_evaluates_and_exports(toycity_root, tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--config", str(CONFIG), *ci_overrides(toycity_root, run)]) == 0

    # Training wrote checkpoints, logs of every loss term, and a deployable M_n.
    assert (run / "ckpt_0000020.pt").exists() and (run / "best.pt").exists()
    with open(run / "log.csv") as file:
        rows = list(csv.DictReader(file))
    for term in ("total", "seg_day", "seg_night", "pseudo", "cdc", "js", "cds", "lr"):
        assert term in rows[0], term
    assert int(rows[-1]["iteration"]) == 20
    assert any((run / "tb").iterdir())

    raw = torch.load(run / "deploy.pt", weights_only=True)
    assert not any(k.startswith(("projection", "segmenter_day")) for k in raw["state_dict"])
    segmenter, meta = load_deployed(run / "deploy.pt")
    assert meta["arch"] == "tiny" and meta["num_classes"] == 19 and meta["variant"] == "full"
    full_model = CCDistillModel("tiny")
    assert sum(p.numel() for p in segmenter.parameters()) < sum(p.numel() for p in full_model.parameters())

    capsys.readouterr()
    assert main(["eval", "--checkpoint", str(run / "deploy.pt"), "--config", str(CONFIG), "--split", "test",
                 "--output", str(tmp_path / "eval"), *ci_overrides(toycity_root, run)]) == 0
    printed = capsys.readouterr().out
    assert "mIoU" in printed and "road" in printed
    assert (tmp_path / "eval" / "metrics.json").exists() and (tmp_path / "eval" / "confusion.png").exists()

    submission = tmp_path / "submission"
    assert main(["export", "darkzurich", "--checkpoint", str(run / "deploy.pt"),
                 "--root", str(toycity_root / "target"), "--out", str(submission), "--device", "cpu"]) == 0
    assert main(["export", "validate", "--out", str(submission), "--root", str(toycity_root / "target"),
                 "--image-size", "128x256"]) == 0
    assert len(list((submission / "labelTrainIds").glob("*.png"))) == 4
