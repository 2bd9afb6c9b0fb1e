"""The four streams share one projection-head batch, and each network can share one
BatchNorm batch across its two streams (issue: correlation wiring)."""

from __future__ import annotations

import pytest
import torch

from ccdistill.losses import cdc_loss, content_correlation
from ccdistill.models import CCDistillModel
from ccdistill.streams import STREAMS
from ccdistill.train.forward import StreamForward, StreamPlan


def _features(seed: int = 0) -> dict[str, torch.Tensor]:
    """Post-ReLU-like F_Sd, F_Td (4×64×6×8) and night versions with a stream-wide shift."""
    torch.manual_seed(seed)
    f_Sd, f_Td = torch.relu(torch.randn(4, 64, 6, 8)), torch.relu(torch.randn(4, 64, 6, 8))
    return {"S_d": f_Sd, "S_n": 0.3 * f_Sd + 0.2, "T_d": f_Td, "T_n": 0.9 * f_Td + 0.05}


def _cor_illu(e: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    return (content_correlation(e["S_d"], e["S_n"], pairs="aligned"),
            content_correlation(e["T_d"], e["T_n"], pairs="aligned"))


def test_a_global_illumination_change_survives_the_joint_head():
    """S_n = 0.3·S_d + 0.2 is a darker copy of S_d. Embedded per stream, each stream's own
    BatchNorm statistics remove the shift (Cor_illu ≈ 1, L_CDC ≈ 0); embedded jointly the shift
    stays visible: Cor_illu_S drops by at least 0.05 below 1 and L_CDC is at least 0.1."""
    model = CCDistillModel("tiny").train()
    f = _features()
    joint = model.embed_streams(f)
    per_stream = {s: model.embed(v) for s, v in f.items()}
    joint_S, _ = _cor_illu(joint)
    separate_S, _ = _cor_illu(per_stream)
    assert separate_S.min() > 0.999  # what the per-stream wiring showed
    assert joint_S.max() < 0.95
    assert cdc_loss(*(joint[s] for s in STREAMS)).item() > 0.1
    assert cdc_loss(*(per_stream[s] for s in STREAMS)).item() < 1e-3


def test_train_and_eval_mode_correlations_agree_with_the_joint_head():
    """Once the head's running statistics have seen the joint batch, eval mode (what a notebook
    shows) gives the correlations training uses, within 0.02."""
    model = CCDistillModel("tiny")
    f = _features(1)
    model.train()
    with torch.no_grad():
        for _ in range(60):  # momentum 0.1: running statistics converge to the batch's
            train_cor = _cor_illu(model.embed_streams(f))
    model.eval()
    with torch.no_grad():
        eval_cor = _cor_illu(model.embed_streams(f))
    for a, b in zip(train_cor, eval_cor):
        torch.testing.assert_close(a, b, atol=0.02, rtol=0)


def test_embed_streams_keeps_order_and_groups_unequal_sizes():
    model = CCDistillModel("tiny").eval()
    f = {"S_d": torch.randn(2, 64, 4, 4), "T_d": torch.randn(3, 64, 5, 4), "S_n": torch.randn(2, 64, 4, 4)}
    e = model.embed_streams(f)
    assert list(e) == ["S_d", "T_d", "S_n"]
    assert [tuple(v.shape) for v in e.values()] == [(2, 128, 4, 4), (3, 128, 5, 4), (2, 128, 4, 4)]
    torch.testing.assert_close(e["T_d"], model.embed(f["T_d"]))  # eval mode: batch-independent


@pytest.mark.parametrize("share_weights", [False, True])
def test_joint_segmenter_batchnorm_matches_per_stream_in_eval_and_pools_statistics_in_training(share_weights):
    torch.manual_seed(0)
    model = CCDistillModel("tiny", share_weights=share_weights)
    images = {s: torch.randn(2, 3, 32, 32) + (i - 1.5) for i, s in enumerate(STREAMS)}
    plan = StreamPlan(STREAMS, embeddings=True)
    joint, separate = StreamForward(model, plan, "joint"), StreamForward(model, plan, "per_stream")
    model.eval()
    with torch.no_grad():
        a, b = joint.segment(images), separate.segment(images)
    for s in STREAMS:
        torch.testing.assert_close(a[s].logits, b[s].logits, atol=1e-5, rtol=1e-5)
    model.train()
    bn = model.segmenter_night.backbone[1]  # the first BatchNorm of M_n
    bn.reset_running_stats()
    bn.momentum = None  # cumulative average: running_mean = mean of the batch means seen
    with torch.no_grad():
        joint.segment(images)
    night = ["S_n", "T_n"] if not share_weights else list(STREAMS)
    first_conv = model.segmenter_night.backbone[0]
    expected = torch.cat([first_conv(images[s]) for s in night]).mean(dim=(0, 2, 3))
    torch.testing.assert_close(bn.running_mean, expected, atol=1e-5, rtol=1e-4)
