"""Each architecture's input normalisation reaches the training streams, the evaluation split,
deploy.pt's meta, and everything that later loads that deploy.pt."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ccdistill.data
import ccdistill.data.build
from ccdistill.runfolder.checkpoint import deploy_payload, load_deployed, save_atomic
from ccdistill.cli import main
from ccdistill.config import load_config
from ccdistill.data.transforms import tensor_to_image
from ccdistill.errors import CheckpointError
from ccdistill.models import build_segmenter
from ccdistill.normalization import IMAGENET, Normalization
from ccdistill.train import Trainer
from tests.engine.helpers import CONFIG, ci_overrides

HALF = Normalization((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))


@pytest.fixture(scope="module")
def lite0_run(toycity_root, tmp_path_factory):
    run = tmp_path_factory.mktemp("lite0")
    trainer = Trainer(load_config(CONFIG, ci_overrides(
        toycity_root, run, "model.arch=efficientnet_lite0", "train.max_iterations=1", "train.val_every=0")))
    trainer.fit()
    return trainer, run


def _expected(raw: np.ndarray, normalization: Normalization) -> torch.Tensor:
    mean, std = (torch.tensor(v).view(3, 1, 1) for v in (normalization.mean, normalization.std))
    return (torch.from_numpy(np.array(raw)).permute(2, 0, 1).float() / 255 - mean) / std


def test_trainer_data_for_lite0_is_normalised_with_half(lite0_run):
    trainer, _ = lite0_run
    source = trainer.source.dataset[0]
    for key in ("S_d", "S_n"):  # S_n converted after the translator
        torch.testing.assert_close(source[key], _expected(tensor_to_image(source[key], HALF), HALF))
    target = trainer.target.dataset[0]
    for key in ("T_n", "T_d"):
        torch.testing.assert_close(target[key], _expected(tensor_to_image(target[key], HALF), HALF))
    evaluation = trainer.evaluation_set
    raw = evaluation.transform.geometric(evaluation.load(0))["image"]
    torch.testing.assert_close(evaluation[0]["image"], _expected(raw, HALF))
    assert -1.0 <= float(evaluation[0]["image"].min()) and float(evaluation[0]["image"].max()) <= 1.0


def test_deploy_meta_records_the_normalisation(lite0_run):
    _, run = lite0_run
    meta = torch.load(run / "deploy.pt", weights_only=True)["meta"]
    assert meta["arch"] == "efficientnet_lite0"
    assert meta["mean"] == [0.5, 0.5, 0.5] and meta["std"] == [0.5, 0.5, 0.5]
    _, loaded = load_deployed(run / "deploy.pt")
    assert Normalization.from_meta(loaded) == HALF


def _tiny_deploy(path, **meta_changes):
    meta = {"arch": "tiny", "num_classes": 19, "variant": "full", **meta_changes}
    return save_atomic(deploy_payload(build_segmenter("tiny"), meta), path)


def test_eval_normalises_with_the_mean_and_std_stored_in_deploy_pt(toycity_root, tmp_path, monkeypatch):
    # A stored normalisation that differs from the architecture's own wins.
    stored = Normalization((0.1, 0.2, 0.3), (0.4, 0.5, 0.6))
    checkpoint = _tiny_deploy(tmp_path / "deploy.pt", **stored.as_meta())
    used = []
    real = ccdistill.data.build.build_evaluation  # eval builds the evaluation split alone

    def spy(cfg, normalization):
        used.append(normalization)
        return real(cfg, normalization)

    monkeypatch.setattr(ccdistill.data.build, "build_evaluation", spy)
    assert main(["eval", "--checkpoint", str(checkpoint), "--config", str(CONFIG), "--split", "val",
                 "--max-images", "1", *ci_overrides(toycity_root, tmp_path / "unused")]) == 0
    assert used == [stored]


def test_deploy_pt_without_a_normalisation_gets_its_architecture_s(tmp_path):
    checkpoint = _tiny_deploy(tmp_path / "old.pt")  # written before meta recorded mean/std
    _, meta = load_deployed(checkpoint)
    assert Normalization.from_meta(meta) == IMAGENET


def test_deploy_pt_with_a_malformed_normalisation_is_refused(tmp_path):
    checkpoint = _tiny_deploy(tmp_path / "bad.pt", mean=[0.5, 0.5], std=[0.5, 0.5, 0.5])
    with pytest.raises(CheckpointError, match="bad.pt records an unusable input normalisation: mean is"):
        load_deployed(checkpoint)
