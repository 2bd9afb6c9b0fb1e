"""The stream table is the single source: the stream plan, the loss combinator's inputs and the
DDP setting agree with it for every variant."""

from __future__ import annotations

import pytest
import torch

from ccdistill.config import load_config
from ccdistill.config.schema import VARIANTS
from ccdistill.errors import InputError
from ccdistill.losses import ccdistill_loss
from ccdistill.streams import STREAMS, TERM_STREAMS, enabled_terms, needs_embeddings, streams_needed
from ccdistill.train.forward import StreamPlan

CONFIG = "configs/toycity.yaml"


def _outputs(streams, n=2, k=19, c=8, size=(16, 16)):
    torch.manual_seed(0)
    return {s: (torch.randn(n, k, *size), torch.rand(n, c, 4, 4)) for s in streams}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_plan_loss_inputs_and_ddp_agree_with_the_table(variant):
    config = load_config(CONFIG, [f"variant={variant}", "profile=ci"])
    plan = StreamPlan.for_config(config)
    terms = enabled_terms(config.loss)
    read = {s for t in terms for s in TERM_STREAMS[t]}
    # train.forward_target (the target_bn control) forwards T_d, T_n that no term reads.
    expected = read | ({"T_d", "T_n"} if config.train.forward_target else set())
    assert set(plan.streams) == expected
    assert plan.embeddings == any(t in ("cdc", "js") for t in terms)
    assert plan.uses_every_parameter == (expected == set(STREAMS) and plan.embeddings)
    # The combinator accepts exactly these streams ...
    outputs = _outputs(plan.streams)
    embeddings = ({s: torch.nn.functional.normalize(torch.randn(2, 8, 4, 4), dim=1) for s in plan.streams}
                  if plan.embeddings else None)
    label = torch.randint(0, 19, (2, 16, 16))
    result = ccdistill_loss(outputs, embeddings, label, config.loss, config.distill, 5, 10,
                            label_Tn=label if config.loss.oracle > 0 else None)
    assert set(result) - {"total"} == set(terms)
    # ... and names the first stream it misses when one is dropped.
    for dropped in sorted(read):
        missing = {s: v for s, v in outputs.items() if s != dropped}
        with pytest.raises(InputError, match=dropped):
            ccdistill_loss(missing, embeddings, label, config.loss, config.distill, 5, 10,
                           label_Tn=label if config.loss.oracle > 0 else None)


def test_streams_needed_follows_the_weights():
    config = load_config(CONFIG, ["variant=source_only", "profile=ci"])
    assert streams_needed(config.loss) == ("S_d",)
    assert not needs_embeddings(config.loss)
    config = load_config(CONFIG, ["variant=cds", "profile=ci"])
    assert streams_needed(config.loss) == STREAMS and not needs_embeddings(config.loss)


def test_the_target_bn_control_forwards_the_target_streams_without_a_target_term():
    config = load_config(CONFIG, ["variant=target_bn", "profile=ci"])
    assert enabled_terms(config.loss) == ("seg_day", "seg_night")
    assert StreamPlan.for_config(config).streams == STREAMS
    config = load_config(CONFIG, ["variant=target_bn", "profile=ci", "train.forward_target=false"])
    assert StreamPlan.for_config(config).streams == ("S_d", "S_n")
