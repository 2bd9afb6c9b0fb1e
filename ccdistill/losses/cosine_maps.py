"""Pixel-level cosine tools for teaching and visualisation (docs/METHOD.md, section 4): the cosine map of one
query pixel of image a against every pixel of image b, the full pixel×pixel correlation in
memory-bounded chunks, and the helpers the cosine-map explorer uses to place a query on the
feature grid and upsample the map to image pixels. Not used by the training losses."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ccdistill.errors import InputError
from ccdistill.losses._checks import (
    as_float,
    check_choice,
    check_floating,
    check_ndim,
    check_positive_int,
    full_precision,
)

__all__ = ["pixel_cosine_map", "pixel_correlation", "feature_cell", "cosine_map", "UPSAMPLE_MODES", "upsample_map"]


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
