"""Gram-matrix style and the CDS loss (cross-domain style distillation, docs/METHOD.md, section 5).

Style is the second-order statistics of a feature map: which channels fire together,
regardless of where. CDS compares how much the style changes from day to night on the
source (S_d → S_n) with how much it changes on the target (T_d → T_n), on the raw features F
that enter the classifier (no projection head).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ccdistill.errors import InputError
from ccdistill.losses._checks import (
    PAIRS,
    as_float,
    check_choice,
    check_floating,
    check_ndim,
    check_streams,
    correlation_distance,
    full_precision,
    stop_gradient,
    unit_cosine,
)

STYLE_MODES = ("cosine", "difference")


class _SymmetricProduct(torch.autograd.Function):
    """F̃ ↦ F̃ F̃ᵀ (N×C×L → N×C×C) with a one-product backward.

    Autograd would differentiate the two operands of bmm separately (two C×C·C×L products);
    since both are F̃, dL/dF̃ = (dG + dGᵀ) F̃ is a single product, which halves the backward
    of CDS, the largest distillation cost at C = 2048 (DeepLab-v2 R101)."""

    @staticmethod
    def forward(ctx, flat: Tensor) -> Tensor:
        ctx.save_for_backward(flat)
        return torch.bmm(flat, flat.transpose(1, 2))

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tensor:
        (flat,) = ctx.saved_tensors
        return torch.bmm(grad + grad.transpose(1, 2), flat)


def gram_matrix(f: Tensor, center: bool = False) -> Tensor:
    """G(F) = F̃ F̃ᵀ / (C·H·W) per image, with F̃ the C×HW flattening of F.

    Computed in float32 even under autocast (a bfloat16 Gram keeps about three significant
    digits, too few for differences between nearly equal styles); float64 stays float64.

    Args:
        f: N×C×H×W features.
        center: subtract each channel's spatial mean first (a covariance): post-ReLU
            features share a large positive mean that makes raw Gram cosines sit near 1.

    Returns:
        N×C×C symmetric positive semi-definite matrices.
    """
    check_ndim("f", f, 4, "N×C×H×W")
    check_floating("f", f)
    n, c, h, w = f.shape
    with full_precision(f):
        flat = as_float(f).reshape(n, c, h * w)
        if center:
            flat = flat - flat.mean(dim=2, keepdim=True)
        return _SymmetricProduct.apply(flat) / (c * h * w)


def style_correlation(
    g_a: Tensor, g_b: Tensor, mode: str = "cosine", pairs: str = "all"
) -> Tensor:
    """Cor_G(a, b): how two batches of Gram matrices relate.

    Args:
        g_a: N_a×C×C Gram matrices (e.g. G_Sd).
        g_b: N_b×C×C Gram matrices (e.g. G_Sn), same C.
        mode: "cosine" — cosine between the flattened matrices; "difference" — Δ = g_a − g_b,
            image i with image i (needs equal shapes).
        pairs: for "cosine": "all" gives the N_a×N_b matrix, "aligned" the N cosines of
            image i with image i (needs N_a = N_b).

    Returns:
        "cosine": N_a×N_b (or N for pairs="aligned"), values in [−1, 1];
        "difference": N×C×C.
    """
    check_ndim("g_a", g_a, 3, "N×C×C")
    check_ndim("g_b", g_b, 3, "N×C×C")
    check_floating("g_a", g_a)
    check_floating("g_b", g_b)
    check_choice("mode", mode, STYLE_MODES)
    check_choice("pairs", pairs, PAIRS)
    if g_a.shape[1:] != g_b.shape[1:]:
        raise InputError(
            f"g_a holds {tuple(g_a.shape[1:])} matrices but g_b holds {tuple(g_b.shape[1:])}; "
            f"both must be C×C Gram matrices of the same C"
        )
    if (mode == "difference" or pairs == "aligned") and g_a.shape[0] != g_b.shape[0]:
        raise InputError(
            f"mode={mode!r}, pairs={pairs!r} pairs image i of g_a with image i of g_b, but "
            f"g_a has batch {g_a.shape[0]} and g_b has {g_b.shape[0]}"
        )
    if mode == "difference":
        return g_a - g_b
    with full_precision(g_a):
        v_a = F.normalize(as_float(g_a).flatten(1), dim=1)
        v_b = F.normalize(as_float(g_b).flatten(1), dim=1)
        return unit_cosine(v_a, v_b, pairs)


def cds_loss(
    f_Sd: Tensor,
    f_Sn: Tensor,
    f_Td: Tensor,
    f_Tn: Tensor,
    mode: str = "cosine",
    center: bool = False,
    distance: str = "l1",
    symmetric: bool = False,
    illumination_pairs: str = "aligned",
) -> Tensor:
    """L_CDS: the source illumination change of style teaches the target one.

    * mode="cosine": ℓ(sg[Cor_G(S_d,S_n)], Cor_G(T_d,T_n)), ℓ = `distance`.
    * mode="difference": ‖Δ_S − Δ_T‖²_F / sg[(‖Δ_S‖²_F + ‖Δ_T‖²_F) / 2] per image, averaged
      over the batch, Δ_S = sg[G_Sd − G_Sn], Δ_T = G_Td − G_Tn (`distance` is not used: the
      norm is part of the definition). The relative error does not shrink as C grows (an
      absolute one is ≈1e-9 at C = 2048, since G is divided by C·h·w), lies in [0, 4], and
      is 0 when both differences vanish; its detached denominator only rescales the gradient.

    mode="cosine" is blind to amplitude: scaling every F_Tn by a constant leaves Cor_G(T_d,T_n)
    and so the loss unchanged (docs/METHOD.md, CDS).

    Args:
        f_Sd, f_Sn, f_Td, f_Tn: N×C×H×W raw features (the classifier's input), equal shapes.
        mode: "cosine" or "difference".
        center: Gram on channel-centred features (see `gram_matrix`).
        distance: "l1" or "mse" (mode="cosine").
        symmetric: False — the source side is detached (sg[·]), so f_Sd and f_Sn receive no
            gradient from this loss; True removes sg[·] (ablation).
        illumination_pairs: mode="cosine": "aligned" (default) compares image i of S_d with
            image i of S_n (and T_d with T_n); "all" the full N×N matrices.

    Returns:
        Scalar loss, float32 (float64 for float64 inputs).
    """
    check_streams({"f_Sd": f_Sd, "f_Sn": f_Sn, "f_Td": f_Td, "f_Tn": f_Tn}, 4, "N×C×H×W")
    check_choice("mode", mode, STYLE_MODES)
    check_choice("distance", distance, ("l1", "mse"))
    check_choice("illumination_pairs", illumination_pairs, PAIRS)
    with stop_gradient(symmetric):
        g_Sd = gram_matrix(f_Sd, center)
        g_Sn = gram_matrix(f_Sn, center)
        teacher = style_correlation(g_Sd, g_Sn, mode, illumination_pairs)
    student = style_correlation(gram_matrix(f_Td, center), gram_matrix(f_Tn, center), mode,
                                illumination_pairs)
    if mode == "cosine":
        return correlation_distance(teacher, student, distance)
    with torch.no_grad():
        scale = (teacher.square().sum(dim=(1, 2)) + student.square().sum(dim=(1, 2))) / 2
        scale = scale.clamp_min(torch.finfo(scale.dtype).tiny)
    return ((teacher - student).square().sum(dim=(1, 2)) / scale).mean()


def gram_difference(g_a: Tensor, g_b: Tensor) -> Tensor:
    """Δ = G_a − G_b, image i with image i: how the style moves between two streams.

    Δ_S = gram_difference(G_Sd, G_Sn) is the illumination change of style on the source,
    Δ_T = gram_difference(G_Td, G_Tn) on the target (what mode="difference" of CDS compares);
    between cities, e.g. gram_difference(G_Sd, G_Td). ‖Δ‖_F, e.g.
    `torch.linalg.matrix_norm(delta)`, says how far apart the two styles are.

    Args:
        g_a: N×C×C Gram matrices (`gram_matrix`).
        g_b: N×C×C Gram matrices, same shape.

    Returns:
        N×C×C symmetric differences, the dtype of the inputs.
    """
    return style_correlation(g_a, g_b, mode="difference")
