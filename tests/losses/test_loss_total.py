"""The total loss: which terms are computed, the weighted sum, the warm-up, the errors."""

from __future__ import annotations

from typing import NamedTuple

import pytest
import torch

from ccdistill.errors import InputError
from ccdistill.losses import (
    LossOptions,
    LossWeights,
    ccdistill_loss,
    distillation_ramp,
)

STREAMS = ("S_d", "S_n", "T_d", "T_n")
K = 19
DISTILLATION = {"cdc", "js", "cds"}


class Output(NamedTuple):  # the shape of the model's SegmenterOutput
    logits: torch.Tensor
    features: torch.Tensor


def batch(streams=STREAMS, n: int = 2, size: int = 8):
    outputs = {
        s: Output(torch.randn(n, K, size, size, requires_grad=True),
                  torch.relu(torch.randn(n, 6, size // 2, size // 2)).requires_grad_())
        for s in streams
    }
    embeddings = {s: torch.randn(n, 4, size // 2, size // 2, requires_grad=True) for s in streams}
    label = torch.randint(0, K, (n, size, size))
    return outputs, embeddings, label


def test_ramp_rises_linearly_then_stays_at_one():
    assert distillation_ramp(0, 1000) == 0.0
    assert distillation_ramp(50, 1000) == pytest.approx(0.5)
    assert distillation_ramp(100, 1000) == 1.0
    assert distillation_ramp(999, 1000) == 1.0
    assert distillation_ramp(0, 1000, warmup_fraction=0.0) == 1.0
    with pytest.raises(InputError, match="max_iterations"):
        distillation_ramp(0, 0)
    with pytest.raises(InputError, match="warmup_fraction"):
        distillation_ramp(0, 10, warmup_fraction=1.5)


def test_default_weights_compute_every_term_except_oracle_and_sum_them():
    outputs, embeddings, label = batch()
    weights = LossWeights()
    result = ccdistill_loss(outputs, embeddings, label, weights, iteration=25, max_iterations=1000)
    assert set(result) == {"seg_day", "seg_night", "pseudo", "cdc", "js", "cds", "total"}
    ramp = distillation_ramp(25, 1000, weights.warmup_fraction)
    assert ramp == pytest.approx(0.25)
    expected = sum(
        getattr(weights, name) * (ramp if name in DISTILLATION else 1.0) * value
        for name, value in result.items() if name != "total"
    )
    torch.testing.assert_close(result["total"], expected)
    result["total"].backward()
    assert outputs["T_n"].logits.grad.abs().sum() > 0
    assert embeddings["T_n"].grad.abs().sum() > 0


def test_distillation_terms_do_not_count_at_iteration_zero():
    outputs, embeddings, label = batch()
    result = ccdistill_loss(outputs, embeddings, label, LossWeights(), iteration=0,
                            max_iterations=100)
    torch.testing.assert_close(
        result["total"], result["seg_day"] + result["seg_night"] + result["pseudo"]
    )
    after = ccdistill_loss(outputs, embeddings, label, LossWeights(), iteration=10,
                           max_iterations=100)
    torch.testing.assert_close(
        after["total"],
        after["seg_day"] + after["seg_night"] + after["pseudo"] + after["cdc"]
        + 0.1 * after["js"] + after["cds"],
    )


def test_source_only_needs_only_S_d():
    outputs, _, label = batch(streams=("S_d",))
    weights = LossWeights(seg_night=0, pseudo=0, cdc=0, js=0, cds=0)
    result = ccdistill_loss(outputs, None, label, weights)
    assert set(result) == {"seg_day", "total"}
    torch.testing.assert_close(result["total"], result["seg_day"])


@pytest.mark.parametrize(
    "enabled",
    [{"seg_day", "seg_night"}, {"seg_day", "cds"}, {"pseudo", "cdc"}, {"js"}, {"oracle"}],
)
def test_exactly_the_enabled_terms_are_returned(enabled):
    outputs, embeddings, label = batch()
    weights = LossWeights(**{t: (0.5 if t in enabled else 0.0)
                             for t in ("seg_day", "seg_night", "pseudo", "cdc", "js", "cds",
                                       "oracle")})
    result = ccdistill_loss(outputs, embeddings, label, weights, iteration=5, max_iterations=10,
                            label_Tn=label)
    assert set(result) == enabled | {"total"}
    torch.testing.assert_close(result["total"], 0.5 * sum(result[t] for t in enabled))


def test_options_reach_the_losses():
    outputs, embeddings, label = batch()
    weights = LossWeights(seg_day=0, seg_night=0, js=0, cds=0)
    plain = ccdistill_loss(outputs, embeddings, label, weights)
    other = ccdistill_loss(outputs, embeddings, label, weights,
                           LossOptions(granularity="token", grid=2, pseudo_tolerant=True))
    assert other["pseudo"].item() < plain["pseudo"].item()
    assert other["cdc"].item() != pytest.approx(plain["cdc"].item())


def test_missing_stream_names_the_term_and_the_stream():
    outputs, embeddings, label = batch(streams=("S_d", "S_n"))
    with pytest.raises(InputError, match="'pseudo' term needs stream 'T_d'"):
        ccdistill_loss(outputs, embeddings, label, LossWeights())
    outputs, _, label = batch()
    with pytest.raises(InputError, match="'cdc' term needs stream 'S_d' in embeddings"):
        ccdistill_loss(outputs, None, label, LossWeights(js=0))
    with pytest.raises(InputError, match="label_Tn"):
        ccdistill_loss(outputs, None, label, LossWeights(cdc=0, js=0, oracle=1.0))


def test_nothing_enabled_is_an_error():
    outputs, embeddings, label = batch()
    zero = LossWeights(seg_day=0, seg_night=0, pseudo=0, cdc=0, js=0, cds=0, oracle=0)
    with pytest.raises(InputError, match="at least one"):
        ccdistill_loss(outputs, embeddings, label, zero)


@pytest.mark.parametrize(
    "make, name",
    [
        (lambda: LossOptions(granularity="pixel"), "granularity"),
        (lambda: LossOptions(style_mode="gram"), "style_mode"),
        (lambda: LossOptions(pseudo_rule="dannet"), "pseudo_rule"),
        (lambda: LossOptions(tau=0), "tau"),
        (lambda: LossOptions(grid=0), "grid"),
        (lambda: LossWeights(cdc=-1.0), "cdc"),
        (lambda: LossWeights(warmup_fraction=2.0), "warmup_fraction"),
    ],
)
def test_bad_options_raise_with_the_field_name(make, name):
    with pytest.raises(InputError, match=name):
        make()
