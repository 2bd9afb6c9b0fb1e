"""Content correlations and the CDC loss (cross-domain content distillation, SPEC 4.3).

The embeddings e_Sd, e_Sn, e_Td, e_Tn come out of the shared projection head, N×D×H×W and
L2-normalised along D. A correlation is a cosine similarity between pooled embeddings:

* inherent-difference pairs:     Cor_in_d = Cor(S_d, T_d),   Cor_in_n = Cor(S_n, T_n)
* illumination-difference pairs: Cor_illu_S = Cor(S_d, S_n), Cor_illu_T = Cor(T_d, T_n)

L_CDC distils the day correlation into the night one and the source correlation into the
target one; the teacher side is wrapped in sg[·] (stop-gradient).

The module also holds the Jensen–Shannon term of CDC and the pixel-level cosine tools used by
the teaching notebooks.
"""

from __future__ import annotations

import math

import torch
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
)

_LN2 = math.log(2.0)


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


def _cosine(z_a: Tensor, z_b: Tensor, pairs: str) -> Tensor:
    """Cosines of unit rows: every row of a with every row of b ("all", P×Q) or row i of a
    with row i of b ("aligned", P)."""
    with full_precision(z_a):
        if pairs == "all":
            return z_a @ z_b.T
        return (z_a * z_b).sum(dim=1)


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
        pairs: "all" — every item of a against every item of b (the SPEC 4.3 matrix);
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
    return _cosine(z_a, z_b, pairs)


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
        cor_in_d = _cosine(z_Sd, z_Td, "all")
        cor_illu_S = _cosine(z_Sd, z_Sn, illumination_pairs)
    cor_in_n = _cosine(z_Sn, z_Tn, "all")
    cor_illu_T = _cosine(z_Td, z_Tn, illumination_pairs)
    return correlation_distance(cor_in_d, cor_in_n, distance) + correlation_distance(
        cor_illu_S, cor_illu_T, distance
    )


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


def _as_rows(name: str, x: Tensor) -> Tensor:
    """P×D rows as given, or a C×H×W map flattened to (H·W)×C pixel rows."""
    if not isinstance(x, Tensor) or x.dim() not in (2, 3):
        shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        raise InputError(f"{name} must be a P×D matrix or a C×H×W feature map; got {shape}")
    check_floating(name, x)
    return x.flatten(1).T if x.dim() == 3 else x


def pixel_cosine_map(f_a: Tensor, f_b: Tensor, query: tuple[int, int]) -> Tensor:
    """Cosine similarity of one query pixel of image a with every pixel of image b.

    Args:
        f_a: C×H×W features (or embeddings) of image a.
        f_b: C×H'×W' features of image b (same C).
        query: (row, col) of the query pixel in f_a, 0 ≤ row < H, 0 ≤ col < W.

    Returns:
        H'×W' map of cosines in [−1, 1] (0 where a feature vector is all zeros).
    """
    check_ndim("f_a", f_a, 3, "C×H×W")
    check_ndim("f_b", f_b, 3, "C×H×W")
    check_floating("f_a", f_a)
    check_floating("f_b", f_b)
    if f_a.shape[0] != f_b.shape[0]:
        raise InputError(
            f"f_a has {f_a.shape[0]} channels but f_b has {f_b.shape[0]}; they must match"
        )
    _, h, w = f_a.shape
    if (
        not isinstance(query, (tuple, list))
        or len(query) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in query)
    ):
        raise InputError(f"query must be a (row, col) pair of ints; got {query!r}")
    row, col = query
    if not (0 <= row < h and 0 <= col < w):
        raise InputError(
            f"query {tuple(query)} lies outside f_a, whose pixels are rows 0..{h - 1} and "
            f"cols 0..{w - 1}"
        )
    v = F.normalize(as_float(f_a[:, row, col]), dim=0)
    f_b_n = F.normalize(as_float(f_b), dim=0)
    return torch.einsum("c,chw->hw", v, f_b_n)


@torch.no_grad()
def pixel_correlation(
    a: Tensor,
    b: Tensor,
    chunk_size: int = 1024,
    out: Tensor | None = None,
) -> Tensor:
    """The full pixel×pixel cosine matrix, computed in row chunks of `a`.

    Only one chunk of normalised rows of a and one normalised copy of b exist besides the
    output, so extra memory stays O((chunk_size + Q)·D) however large P×Q is. For analysis
    and visualisation: no autograd (the training losses use pooled correlations).

    Args:
        a: P×D rows, or a C×H×W map (flattened to (H·W)×C).
        b: Q×D rows, or a C×H'×W' map (flattened to (H'·W')×C); same D.
        chunk_size: rows of a per matrix product.
        out: optional preallocated P×Q output (contiguous, the result dtype and a's device).

    Returns:
        P×Q cosines (`out` itself when given), in the promoted dtype of a and b.
    """
    a = _as_rows("a", a)
    b = _as_rows("b", b)
    check_positive_int("chunk_size", chunk_size)
    if a.shape[1] != b.shape[1]:
        raise InputError(
            f"a has feature dimension {a.shape[1]} but b has {b.shape[1]}; they must match"
        )
    if a.device != b.device:
        raise InputError(f"a is on {a.device} but b is on {b.device}; they must share a device")
    dtype = torch.result_type(a, b)
    p, q = a.shape[0], b.shape[0]
    if out is None:
        out = torch.empty(p, q, dtype=dtype, device=a.device)
    elif not isinstance(out, Tensor):
        raise InputError(f"out must be a torch.Tensor or None; got {type(out).__name__}")
    elif out.shape != (p, q) or out.dtype != dtype or out.device != a.device:
        raise InputError(
            f"out must be a {p}×{q} {dtype} tensor on {a.device}; got {tuple(out.shape)} "
            f"{out.dtype} on {out.device}"
        )
    elif not out.is_contiguous():
        raise InputError("out must be contiguous so that its row blocks can be written in place")
    b_n = F.normalize(b.to(dtype), dim=1).T
    for start in range(0, p, chunk_size):
        rows = slice(start, min(start + chunk_size, p))
        chunk = F.normalize(a[rows].to(dtype), dim=1)
        torch.mm(chunk, b_n, out=out[rows])
    return out


def _check_size_pair(name: str, value: object) -> tuple[int, int]:
    """(H, W) of positive ints, or InputError naming the argument."""
    if (
        not isinstance(value, (tuple, list, torch.Size))
        or len(value) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value)
    ):
        raise InputError(f"{name} must be a (height, width) pair of positive ints; got {value!r}")
    return int(value[0]), int(value[1])


def feature_cell(
    query_xy: tuple[int, int],
    image_size: tuple[int, int],
    feature_size: tuple[int, int],
    output_stride: int | None = None,
) -> tuple[int, int]:
    """The feature-grid cell (row, col) that holds image pixel (x, y).

    Args:
        query_xy: (x, y) in image pixels, 0 ≤ x < W, 0 ≤ y < H (x = column, as on a plot).
        image_size: (H, W) of the image the features were computed from.
        feature_size: (h, w) of its feature map.
        output_stride: the segmenter's `output_stride`; it must map H×W onto h×w
            (h = ⌈H / stride⌉). None: the ratio H / h, W / w of the two sizes.

    Returns:
        (row, col) with 0 ≤ row < h, 0 ≤ col < w: ⌊y / stride⌋, ⌊x / stride⌋.
    """
    height, width = _check_size_pair("image_size", image_size)
    h, w = _check_size_pair("feature_size", feature_size)
    if (
        not isinstance(query_xy, (tuple, list))
        or len(query_xy) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in query_xy)
    ):
        raise InputError(f"query_xy must be an (x, y) pair of ints in image pixels; got {query_xy!r}")
    x, y = query_xy
    if not (0 <= x < width and 0 <= y < height):
        raise InputError(
            f"query_xy {tuple(query_xy)} lies outside the {height}×{width} image: x must be in "
            f"0..{width - 1} and y in 0..{height - 1}"
        )
    if output_stride is None:
        stride_y, stride_x = height / h, width / w
    else:
        check_positive_int("output_stride", output_stride)
        expected = (-(-height // output_stride), -(-width // output_stride))
        if expected != (h, w):
            raise InputError(
                f"features are {h}×{w}, but a {height}×{width} image at output_stride "
                f"{output_stride} gives {expected[0]}×{expected[1]}; pass the image size the "
                f"features were computed from and segmenter.output_stride"
            )
        stride_y = stride_x = float(output_stride)
    # min(): with a fractional ratio the last pixel can round onto the cell after the grid.
    return min(int(y // stride_y), h - 1), min(int(x // stride_x), w - 1)


def cosine_map(
    f_a: Tensor,
    f_b: Tensor,
    query_xy: tuple[int, int],
    image_size: tuple[int, int],
    output_stride: int | None = None,
) -> Tensor:
    """Batched cosine map: the feature of one image pixel of a against every cell of b.

    Image i of a is compared with image i of b (e.g. S_d with its night version S_n, or an
    image with itself). The query is given in image pixels and mapped onto the feature grid
    with the segmenter's output stride (`feature_cell`); `upsample_map` brings the result
    back onto the image.

    Args:
        f_a: N×C×h×w features (or embeddings) of the query images.
        f_b: N×C×h'×w' features of the images searched (same N and C).
        query_xy: (x, y) in pixels of the H×W images behind f_a.
        image_size: (H, W) of those images.
        output_stride: `segmenter.output_stride`; None infers it from H / h and W / w.

    Returns:
        N×h'×w' cosines in [−1, 1] (0 where a feature vector is all zeros), float32 or
        float64 for float64 inputs.
    """
    check_ndim("f_a", f_a, 4, "N×C×h×w")
    check_ndim("f_b", f_b, 4, "N×C×h×w")
    check_floating("f_a", f_a)
    check_floating("f_b", f_b)
    if f_a.shape[:2] != f_b.shape[:2]:
        raise InputError(
            f"f_a is {tuple(f_a.shape)} but f_b is {tuple(f_b.shape)}; both need the same batch "
            f"N (image i of a is compared with image i of b) and the same channels C"
        )
    row, col = feature_cell(query_xy, image_size, tuple(f_a.shape[-2:]), output_stride)
    with full_precision(f_a):
        v = F.normalize(as_float(f_a[:, :, row, col]), dim=1)
        f_b_n = F.normalize(as_float(f_b), dim=1)
        return torch.einsum("nc,nchw->nhw", v.to(f_b_n.dtype), f_b_n)


UPSAMPLE_MODES = ("bilinear", "nearest")


def upsample_map(
    m: Tensor, image_size: tuple[int, int], mode: str = "bilinear"
) -> Tensor:
    """Bring a feature-grid map (a cosine map, a confidence) onto the image size.

    Args:
        m: N×h×w (or h×w) map on the feature grid.
        image_size: (H, W) of the image.
        mode: "bilinear" (align_corners=False, as the segmenters upsample their logits; keeps
            cosines in [−1, 1]) or "nearest" (shows the cells themselves).

    Returns:
        N×H×W (or H×W) map, the dtype of m (at least float32).
    """
    if not isinstance(m, Tensor) or m.dim() not in (2, 3):
        shape = tuple(m.shape) if isinstance(m, Tensor) else type(m).__name__
        raise InputError(f"m must be an N×h×w or h×w map; got {shape}")
    check_floating("m", m)
    check_choice("mode", mode, UPSAMPLE_MODES)
    size = _check_size_pair("image_size", image_size)
    batched = as_float(m if m.dim() == 3 else m.unsqueeze(0)).unsqueeze(1)
    kwargs = {"align_corners": False} if mode == "bilinear" else {}
    up = F.interpolate(batched, size=size, mode=mode, **kwargs)[:, 0]
    return up if m.dim() == 3 else up[0]
