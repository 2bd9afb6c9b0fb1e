"""One call from a model to what the method reads, on ToyCity scenes rendered in memory: the
features of the four streams, a query pixel's cosine maps, the Gram differences.

    model = CCDistillModel.from_config(load_config("toycity", ["profile=ci"]))
    f = toy_features(model)                       # {S_d, S_n, T_d, T_n: 1×C×h×w}
    maps = toy_cosine_maps(model, (100, 40))      # query pixel (x, y) of S_d against S_n
    style = toy_style(model)                      # Δ_S = G_Sd − G_Sn, Δ_T, ‖Δ‖_F, L_CDS

These are the explorers' computations (`compute_cosine_maps`, `compute_style`) without the
widgets, for scripts and tests.
"""

from __future__ import annotations

from typing import Any

import torch

from ccdistill.errors import InputError

TOY_SIZE = (128, 256)
SPACES = ("features", "embeddings")


def toy_features(
    model: torch.nn.Module, n: int = 1, seed: int = 0, size: tuple[int, int] = TOY_SIZE,
    space: str = "features",
) -> dict[str, torch.Tensor]:
    """{S_d, S_n, T_d, T_n: N×C×h×w} of `toy_streams(n, size, seed)`, each through its network.

    `model` is a CCDistillModel (S_d, T_d -> M_d; S_n, T_n -> M_n) or one segmenter for all;
    space="embeddings" passes the features through the projection head (N×D×h×w, unit norm).
    """
    from ccdistill.viz import toy_streams
    from ccdistill.viz._common import stream_embeddings, stream_outputs

    if space not in SPACES:
        raise InputError(f"space must be one of {', '.join(SPACES)}; got {space!r}")
    streams = toy_streams(n=n, size=size, seed=seed)
    features = {s: out.features for s, out in stream_outputs(model, {s: streams[s] for s in
                                                                      ("S_d", "S_n", "T_d", "T_n")}).items()}
    if space == "embeddings":
        if not hasattr(model, "embed_streams"):
            raise InputError("space='embeddings' needs a CCDistillModel (its projection head); got a segmenter")
        return stream_embeddings(model, features)
    return features


def toy_cosine_maps(
    model: torch.nn.Module, query_xy: tuple[int, int], pair: str = "source", seed: int = 0,
    size: tuple[int, int] = TOY_SIZE, space: str = "features",
) -> dict[str, Any]:
    """The cosine maps of image pixel `query_xy` = (x, y) of the day image of `pair` ("source":
    S_d → S_n, "target": T_d → T_n) on one rendered scene: `compute_cosine_maps`' dict
    (`day_map`, `night_map` on the feature grid, `*_image_map` on the image, `at_query_day` = 1)."""
    from ccdistill.viz import compute_cosine_maps
    from ccdistill.viz._common import output_stride

    pairs = {"source": ("S_d", "S_n"), "target": ("T_d", "T_n")}
    if pair not in pairs:
        raise InputError(f"pair must be 'source' or 'target'; got {pair!r}")
    features = toy_features(model, 1, seed, size, space)
    day, night = pairs[pair]
    return compute_cosine_maps(features[day], features[night], query_xy, size, output_stride(model))


def toy_style(model: torch.nn.Module, seed: int = 0, size: tuple[int, int] = TOY_SIZE) -> dict[str, Any]:
    """Gram differences of one rendered scene's raw features: `compute_style`' dict
    (`delta_S` = G_Sd − G_Sn and `delta_T` = G_Td − G_Tn as C×C, their Frobenius norms
    `norm_S`, `norm_T`, the city gaps and L_CDS)."""
    from ccdistill.viz import compute_style

    return compute_style(toy_features(model, 1, seed, size))
