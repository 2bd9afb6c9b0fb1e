"""Content correlations and the CDC loss (cross-domain content distillation, docs/METHOD.md, section 4).

The embeddings e_Sd, e_Sn, e_Td, e_Tn come out of the shared projection head, N×D×H×W and
L2-normalised along D. A correlation is a cosine similarity between pooled embeddings:

* inherent-difference pairs:     Cor_in_d = Cor(S_d, T_d),   Cor_in_n = Cor(S_n, T_n)
* illumination-difference pairs: Cor_illu_S = Cor(S_d, S_n), Cor_illu_T = Cor(T_d, T_n)

L_CDC distils the day correlation into the night one and the source correlation into the
target one; the teacher side is wrapped in sg[·] (stop-gradient).

The Jensen–Shannon term of CDC is in js.py, the pixel-level cosine tools of the teaching
notebooks in cosine_maps.py.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from ccdistill.errors import InputError
from ccdistill.losses._checks import (
    GRANULARITIES,
    PAIRS,
    as_float,
    check_choice,
    check_floating,
    check_ndim,
    check_positive_int,
    check_streams,
    correlation_distance,
    full_precision,
    stop_gradient,
    unit_cosine,
)

__all__ = ["pool_embeddings", "content_correlation", "cdc_loss"]


def pool_embeddings(e: Tensor, granularity: str = "image", grid: int = 8) -> Tensor:
    """Pool an embedding map into unit vectors, the items a correlation compares.

    Args:
        e: N×D×H×W embeddings (any float dtype; pooled in at least float32).
        granularity: "image" — global average pool, one vector per image; "token" — adaptive
            average pool to a grid×grid map, one vector per cell.
        grid: K, the token grid side (used when granularity="token").

    Returns:
        N×D ("image") or (N·K²)×D ("token", rows ordered image-major then row-major cells),
        each row L2-normalised.
    """
    check_ndim("e", e, 4, "N×D×H×W")
    check_floating("e", e)
    check_choice("granularity", granularity, GRANULARITIES)
    check_positive_int("grid", grid)
    with full_precision(e):
        e = as_float(e)
        if granularity == "image":
            z = e.mean(dim=(2, 3))
        else:
            n, d = e.shape[:2]
            z = F.adaptive_avg_pool2d(e, grid).reshape(n, d, grid * grid)
            z = z.transpose(1, 2).reshape(n * grid * grid, d)
        # Averaging unit vectors shortens them; renormalise so a correlation is a cosine.
        return F.normalize(z, dim=1)


def content_correlation(
    e_a: Tensor,
    e_b: Tensor,
    granularity: str = "image",
    grid: int = 8,
    pairs: str = "all",
) -> Tensor:
    """Cor(a, b): cosine similarities between the pooled embeddings of two streams.

    Args:
        e_a: N_a×D×H×W embeddings of stream a (e.g. e_Sd).
        e_b: N_b×D×H'×W' embeddings of stream b (e.g. e_Td); same D.
        granularity: "image" (one vector per image) or "token" (grid×grid vectors per image).
        grid: K, the token grid side.
        pairs: "all" — every item of a against every item of b (the matrix of docs/METHOD.md, section 4);
            "aligned" — item i of a against item i of b only (same image, same cell), which
            needs N_a = N_b.

    Returns:
        "all": N_a×N_b ("image") or (N_a·K²)×(N_b·K²) ("token");
        "aligned": N ("image") or N·K² ("token"). Values in [−1, 1], float32 or float64.
    """
    check_ndim("e_a", e_a, 4, "N×D×H×W")
    check_ndim("e_b", e_b, 4, "N×D×H×W")
    check_choice("pairs", pairs, PAIRS)
    if e_a.shape[1] != e_b.shape[1]:
        raise InputError(
            f"e_a has {e_a.shape[1]} channels but e_b has {e_b.shape[1]}; "
            f"both must be embeddings of the same dimension D"
        )
    if pairs == "aligned" and e_a.shape[0] != e_b.shape[0]:
        raise InputError(
            f"pairs='aligned' pairs image i of e_a with image i of e_b, but e_a has batch "
            f"{e_a.shape[0]} and e_b has {e_b.shape[0]}; use equal batches or pairs='all'"
        )
    z_a = pool_embeddings(e_a, granularity, grid)
    z_b = pool_embeddings(e_b, granularity, grid)
    return unit_cosine(z_a, z_b, pairs)


def cdc_loss(
    e_Sd: Tensor,
    e_Sn: Tensor,
    e_Td: Tensor,
    e_Tn: Tensor,
    granularity: str = "image",
    grid: int = 8,
    distance: str = "l1",
    symmetric: bool = False,
    illumination_pairs: str = "aligned",
) -> Tensor:
    """L_CDC = ℓ(sg[Cor(S_d,T_d)], Cor(S_n,T_n)) + ℓ(sg[Cor(S_d,S_n)], Cor(T_d,T_n)).

    The first term says the inherent (dataset) difference seen by day must also hold at
    night; the second says the illumination difference measured on the labelled source must
    also hold on the target.

    Args:
        e_Sd, e_Sn, e_Td, e_Tn: N×D×H×W embeddings of the four streams, equal shapes.
        granularity, grid: how embeddings are pooled (see `pool_embeddings`).
        distance: ℓ, "l1" (mean absolute error) or "mse".
        symmetric: False — the teacher correlations (S_d,T_d) and (S_d,S_n) are detached,
            so e_Sd receives no gradient from this loss; True removes sg[·] (ablation).
        illumination_pairs: which entries of the illumination correlations are compared.
            "aligned" (default) — image i of S_d with image i of S_n and image i of T_d with
            image i of T_n (same scene under two illuminations; token k with token k);
            "all" — the full matrices, whose off-diagonal entries pair different scenes.
            The inherent correlations always use all pairs (any source image against any
            target image is an inherent-difference pair).

    Returns:
        Scalar loss, float32 (float64 for float64 inputs).
    """
    check_streams({"e_Sd": e_Sd, "e_Sn": e_Sn, "e_Td": e_Td, "e_Tn": e_Tn}, 4, "N×D×H×W")
    check_choice("illumination_pairs", illumination_pairs, PAIRS)
    check_choice("distance", distance, ("l1", "mse"))
    z_Sn = pool_embeddings(e_Sn, granularity, grid)
    z_Td = pool_embeddings(e_Td, granularity, grid)
    z_Tn = pool_embeddings(e_Tn, granularity, grid)
    with stop_gradient(symmetric):
        z_Sd = pool_embeddings(e_Sd, granularity, grid)
        cor_in_d = unit_cosine(z_Sd, z_Td, "all")
        cor_illu_S = unit_cosine(z_Sd, z_Sn, illumination_pairs)
    cor_in_n = unit_cosine(z_Sn, z_Tn, "all")
    cor_illu_T = unit_cosine(z_Td, z_Tn, illumination_pairs)
    return correlation_distance(cor_in_d, cor_in_n, distance) + correlation_distance(
        cor_illu_S, cor_illu_T, distance
    )
