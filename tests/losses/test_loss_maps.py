"""Cosine maps with image-pixel queries, their upsampling, and Gram differences (float64)."""

from __future__ import annotations

import pytest
import torch

from ccdistill.errors import InputError
from ccdistill.losses import (
    cosine_map,
    feature_cell,
    gram_difference,
    gram_matrix,
    pixel_cosine_map,
    style_correlation,
    upsample_map,
)


def test_feature_cell_divides_image_pixels_by_the_stride():
    assert feature_cell((0, 0), (64, 128), (8, 16), output_stride=8) == (0, 0)
    assert feature_cell((7, 7), (64, 128), (8, 16), output_stride=8) == (0, 0)
    assert feature_cell((8, 17), (64, 128), (8, 16), output_stride=8) == (2, 1)
    assert feature_cell((127, 63), (64, 128), (8, 16)) == (7, 15)  # stride inferred
    assert feature_cell((127, 63), (64, 128), (4, 8), output_stride=16) == (3, 7)


@pytest.mark.parametrize("query", [(128, 0), (0, 64), (-1, 3)])
def test_feature_cell_rejects_pixels_outside_the_image(query):
    with pytest.raises(InputError, match="outside the 64×128 image"):
        feature_cell(query, (64, 128), (8, 16))


def test_feature_cell_rejects_a_stride_that_does_not_fit_the_features():
    with pytest.raises(InputError, match="output_stride 16 gives 4×8"):
        feature_cell((3, 3), (64, 128), (8, 16), output_stride=16)


def test_cosine_map_of_a_map_with_itself_is_one_at_the_query_and_matches_the_unbatched_map():
    f = torch.randn(3, 16, 8, 16, dtype=torch.float64)
    query_xy, image_size = (43, 21), (64, 128)  # pixel (x=43, y=21) -> cell (row 2, col 5)
    maps = cosine_map(f, f, query_xy, image_size, output_stride=8)
    assert maps.shape == (3, 8, 16) and maps.dtype == torch.float64
    torch.testing.assert_close(maps[:, 2, 5], torch.ones(3, dtype=torch.float64), rtol=0, atol=1e-12)
    assert maps.abs().max() <= 1 + 1e-12
    other = torch.randn(3, 16, 8, 16, dtype=torch.float64)
    batched = cosine_map(f, other, query_xy, image_size)
    for i in range(3):
        torch.testing.assert_close(batched[i], pixel_cosine_map(f[i], other[i], (2, 5)))


def test_cosine_map_rejects_unequal_batches():
    with pytest.raises(InputError, match="same batch"):
        cosine_map(torch.randn(2, 4, 4, 4), torch.randn(3, 4, 4, 4), (0, 0), (32, 32))


def test_upsample_map_keeps_cells_and_range():
    m = torch.tensor([[[-1.0, 1.0], [0.5, 0.0]]], dtype=torch.float64)
    nearest = upsample_map(m, (16, 16), mode="nearest")
    assert nearest.shape == (1, 16, 16) and nearest.dtype == torch.float64
    assert nearest[0, 0, 0] == -1 and nearest[0, 3, 12] == 1 and nearest[0, 12, 3] == 0.5
    bilinear = upsample_map(m[0], (16, 16))
    assert bilinear.shape == (16, 16)
    assert bilinear.min() >= -1 and bilinear.max() <= 1
    # align_corners=False: the pixel at the centre of cell (0, 0)'s corner quadrant is the cell value.
    assert bilinear[0, 0] == -1


def test_gram_difference_is_the_difference_of_grams_and_zero_on_itself():
    f_a = torch.rand(2, 5, 6, 7, dtype=torch.float64)
    f_b = torch.rand(2, 5, 6, 7, dtype=torch.float64)
    g_a, g_b = gram_matrix(f_a), gram_matrix(f_b)
    delta = gram_difference(g_a, g_b)
    assert delta.shape == (2, 5, 5) and delta.dtype == torch.float64
    flat_a, flat_b = f_a.reshape(2, 5, -1), f_b.reshape(2, 5, -1)
    expected = (flat_a @ flat_a.transpose(1, 2) - flat_b @ flat_b.transpose(1, 2)) / (5 * 6 * 7)
    torch.testing.assert_close(delta, expected, rtol=0, atol=1e-14)
    torch.testing.assert_close(delta, style_correlation(g_a, g_b, mode="difference"))
    assert gram_difference(g_a, g_a).abs().max() == 0


def test_gram_difference_rejects_unequal_batches():
    with pytest.raises(InputError, match="batch"):
        gram_difference(torch.rand(2, 3, 3), torch.rand(1, 3, 3))
