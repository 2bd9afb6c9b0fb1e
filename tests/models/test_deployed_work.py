"""The deployed model does exactly the bare segmenter's work: a count that repeats, unlike a
timing on a shared machine."""

from __future__ import annotations

import torch

from ccdistill.evaluation.bench import work_count
from ccdistill.models import CCDistillModel, build_segmenter


def test_deployed_and_bare_segmenter_do_identical_work():
    x = torch.randn(1, 3, 64, 128)
    deployed = CCDistillModel("tiny").deploy().eval()
    bare = build_segmenter("tiny").eval()
    flops, ops = work_count(deployed, x)
    assert flops > 0 and ops > 0
    assert (flops, ops) == work_count(bare, x)


def test_work_count_sees_extra_work():
    x = torch.randn(1, 3, 64, 128)
    bare = build_segmenter("tiny").eval()
    bigger = CCDistillModel("tiny").eval()  # forward = M_n, plus an extra head call below
    flops, ops = work_count(bare, x)

    class WithHead(torch.nn.Module):
        def forward(self, x):
            out = bigger(x)
            return bigger.embed(out.features)

    more_flops, more_ops = work_count(WithHead(), x)
    assert more_flops > flops and more_ops > ops
