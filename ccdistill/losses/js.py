"""The Jensen–Shannon term of CDC (docs/METHOD.md, section 4): L_JS on softmax distributions of the pooled
embeddings, and the JS divergence it is made of."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ccdistill.errors import InputError
from ccdistill.losses._checks import as_float, check_floating, check_ndim, check_streams, full_precision
from ccdistill.losses.content import pool_embeddings

__all__ = ["JS_TAU", "js_divergence", "js_loss"]

_LN2 = math.log(2.0)


def _js_from_log_probs(log_p: Tensor, log_q: Tensor) -> Tensor:
    """JS(p, q) per row from log-probabilities (N×D → N), natural log.

    Working in log space keeps every term finite even where a probability underflows to 0:
    log m = logaddexp(log p, log q) − ln 2 never meets log 0.
    """
    log_m = torch.logaddexp(log_p, log_q) - _LN2
    kl_pm = (log_p.exp() * (log_p - log_m)).sum(dim=1)
    kl_qm = (log_q.exp() * (log_q - log_m)).sum(dim=1)
    # 0 ≤ JS ≤ ln 2 holds exactly; the clamp only removes rounding outside it.
    return (0.5 * (kl_pm + kl_qm)).clamp(0.0, _LN2)


def js_divergence(p: Tensor, q: Tensor) -> Tensor:
    """Jensen–Shannon divergence between rows of two probability matrices.

    Args:
        p, q: N×D, each row a probability distribution (non-negative, sums to 1).

    Returns:
        N values in [0, ln 2] (natural log). Zero probabilities are handled (0·log 0 = 0).
    """
    check_ndim("p", p, 2, "N×D")
    check_ndim("q", q, 2, "N×D")
    check_floating("p", p)
    check_floating("q", q)
    if p.shape != q.shape:
        raise InputError(
            f"p has shape {tuple(p.shape)} but q has {tuple(q.shape)}; they must match"
        )
    # The smallest normal number stands in for 0 so log stays finite; its weight is < 1e-37.
    tiny = torch.finfo(as_float(p).dtype).tiny
    return _js_from_log_probs(as_float(p).clamp_min(tiny).log(), as_float(q).clamp_min(tiny).log())


JS_TAU = 0.05  # z is unit-norm: at τ = 0.5 softmax(z/τ) over D = 128 is nearly uniform (JS ≤ 0.04)


def js_loss(e_Sd: Tensor, e_Sn: Tensor, e_Td: Tensor, e_Tn: Tensor, tau: float = JS_TAU) -> Tensor:
    """L_JS = JS(p_Sd,p_Sn) + JS(p_Td,p_Tn) − JS(p_Sd,p_Tn) − JS(p_Sn,p_Td).

    p_x = softmax(z_x / τ) over the D channels of the image-level pooled embedding z_x. The
    same-scene pairs (a day image and its night version) are pulled together, the
    cross-scene, cross-illumination pairs pushed apart. Each JS is averaged over the batch
    (image i of one stream with image i of the other).

    Args:
        e_Sd, e_Sn, e_Td, e_Tn: N×D×H×W embeddings, equal shapes.
        tau: softmax temperature τ > 0. z has unit norm, so τ alone sets how peaked p can
            be: for opposite random unit z at D = 128 the loss reaches 0.03 at τ = 0.5, 0.57 at
            τ = 0.1 and 1.20 at the default τ = 0.05 (bound 2 ln 2 = 1.386).

    Returns:
        Scalar in [−2 ln 2, 2 ln 2].
    """
    check_streams({"e_Sd": e_Sd, "e_Sn": e_Sn, "e_Td": e_Td, "e_Tn": e_Tn}, 4, "N×D×H×W")
    if not float(tau) > 0.0:
        raise InputError(f"tau must be a positive temperature; got {tau!r}")
    with full_precision(e_Sd):
        log_p = {
            name: torch.log_softmax(pool_embeddings(e, "image") / tau, dim=1)
            for name, e in (("Sd", e_Sd), ("Sn", e_Sn), ("Td", e_Td), ("Tn", e_Tn))
        }

        def js(a: str, b: str) -> Tensor:
            return _js_from_log_probs(log_p[a], log_p[b]).mean()

        return js("Sd", "Sn") + js("Td", "Tn") - js("Sd", "Tn") - js("Sn", "Td")
