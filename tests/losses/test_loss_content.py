"""Properties of the content correlations, L_CDC, L_JS and the pixel-level cosine tools."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from ccdistill.errors import InputError
from ccdistill.losses import (
    cdc_loss,
    content_correlation,
    js_divergence,
    js_loss,
    pixel_correlation,
    pixel_cosine_map,
    pool_embeddings,
)

LN2 = math.log(2.0)
GRANULARITIES = ["image", "token"]


def streams(n: int = 2, d: int = 8, h: int = 6, w: int = 6, dtype=torch.float32, grad=False):
    """Four random embedding maps e_Sd, e_Sn, e_Td, e_Tn (N×D×H×W)."""
    return [torch.randn(n, d, h, w, dtype=dtype, requires_grad=grad) for _ in range(4)]


def test_pool_embeddings_shapes_and_unit_rows():
    e = torch.randn(3, 8, 10, 12)
    z_img = pool_embeddings(e, "image")
    z_tok = pool_embeddings(e, "token", grid=4)
    assert z_img.shape == (3, 8)
    assert z_tok.shape == (3 * 16, 8)
    torch.testing.assert_close(z_img.norm(dim=1), torch.ones(3))
    torch.testing.assert_close(z_tok.norm(dim=1), torch.ones(48))
    # Row order is image-major then row-major cells: row 1·16 + 2·4 + 3 is image 1, cell (2, 3).
    cell = F.adaptive_avg_pool2d(e, 4)[1, :, 2, 3]
    torch.testing.assert_close(z_tok[16 + 2 * 4 + 3], F.normalize(cell, dim=0))


@pytest.mark.parametrize("granularity", GRANULARITIES)
def test_correlation_in_unit_interval_with_unit_self_diagonal(granularity):
    e_a, e_b = torch.randn(3, 8, 6, 6), torch.randn(3, 8, 6, 6)
    cor = content_correlation(e_a, e_b, granularity, grid=2)
    rows = 3 if granularity == "image" else 3 * 4
    assert cor.shape == (rows, rows)
    assert cor.min() >= -1 - 1e-6 and cor.max() <= 1 + 1e-6
    self_cor = content_correlation(e_a, e_a, granularity, grid=2)
    torch.testing.assert_close(torch.diagonal(self_cor), torch.ones(rows))
    torch.testing.assert_close(self_cor, self_cor.T)


@pytest.mark.parametrize("granularity", GRANULARITIES)
def test_aligned_pairs_are_the_diagonal(granularity):
    e_a, e_b = torch.randn(2, 8, 4, 4), torch.randn(2, 8, 4, 4)
    full = content_correlation(e_a, e_b, granularity, grid=2, pairs="all")
    aligned = content_correlation(e_a, e_b, granularity, grid=2, pairs="aligned")
    torch.testing.assert_close(aligned, torch.diagonal(full))


def test_correlation_of_different_batches_is_rectangular():
    cor = content_correlation(torch.randn(2, 4, 3, 3), torch.randn(5, 4, 7, 7))
    assert cor.shape == (2, 5)


@pytest.mark.parametrize("granularity", GRANULARITIES)
@pytest.mark.parametrize("distance", ["l1", "mse"])
def test_cdc_is_zero_when_night_equals_day(granularity, distance):
    e_Sd, _, e_Td, _ = streams()
    loss = cdc_loss(e_Sd, e_Sd.clone(), e_Td, e_Td.clone(), granularity, grid=2,
                    distance=distance)
    assert loss.item() == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("granularity", GRANULARITIES)
def test_cdc_is_positive_on_unrelated_streams(granularity):
    assert cdc_loss(*streams(), granularity=granularity, grid=2).item() > 1e-3


def test_all_illumination_pairs_compare_different_scenes():
    # With every pair, Cor(S_d, S_d) and Cor(T_d, T_d) still differ off the diagonal (they
    # compare scene i with scene j), so the loss does not vanish for identical day/night.
    e_Sd, _, e_Td, _ = streams()
    loss = cdc_loss(e_Sd, e_Sd, e_Td, e_Td, illumination_pairs="all")
    assert loss.item() > 1e-4


@pytest.mark.parametrize("granularity", GRANULARITIES)
def test_cdc_teacher_gets_no_gradient_unless_symmetric(granularity):
    e_Sd, e_Sn, e_Td, e_Tn = streams(grad=True)
    cdc_loss(e_Sd, e_Sn, e_Td, e_Tn, granularity, grid=2).backward()
    # e_Sd appears only in the teacher correlations Cor(S_d,T_d) and Cor(S_d,S_n).
    assert e_Sd.grad is None
    for student in (e_Sn, e_Td, e_Tn):
        assert student.grad is not None and student.grad.abs().sum() > 0

    e_Sd, e_Sn, e_Td, e_Tn = streams(grad=True)
    cdc_loss(e_Sd, e_Sn, e_Td, e_Tn, granularity, grid=2, symmetric=True).backward()
    assert e_Sd.grad is not None and e_Sd.grad.abs().sum() > 0


def test_teacher_correlations_are_detached_not_just_e_Sd():
    # The student side of Cor(S_d,T_d) is Cor(S_n,T_n): moving e_Td must not change the loss
    # through the teacher. Check the gradient on e_Td equals that of the student term alone.
    e_Sd, e_Sn, e_Td, e_Tn = streams(grad=True)
    cdc_loss(e_Sd, e_Sn, e_Td, e_Tn).backward()
    grad_full = e_Td.grad.clone()
    e_Td.grad = None
    target_in = content_correlation(e_Sd, e_Td).detach()
    target_illu = content_correlation(e_Sd, e_Sn, pairs="aligned").detach()
    student = (content_correlation(e_Sn, e_Tn) - target_in).abs().mean() + (
        content_correlation(e_Td, e_Tn, pairs="aligned") - target_illu
    ).abs().mean()
    student.backward()
    torch.testing.assert_close(grad_full, e_Td.grad)


def test_js_loss_bounded_on_random_inputs():
    for tau in (0.5, 0.05, 1e-3):
        value = js_loss(*[s * 10 for s in streams(n=4)], tau=tau).item()
        assert -2 * LN2 - 1e-6 <= value <= 2 * LN2 + 1e-6


def _one_hot_map(channel: int, d: int = 6) -> torch.Tensor:
    e = torch.zeros(2, d, 3, 3)
    e[:, channel] = 1.0
    return e


def test_js_loss_reaches_its_bounds_on_adversarial_inputs():
    day_src, day_tgt = _one_hot_map(0), _one_hot_map(1)
    # Same-scene pairs identical, cross pairs disjoint: the loss's minimum −2 ln 2.
    low = js_loss(day_src, day_src.clone(), day_tgt, day_tgt.clone(), tau=1e-3)
    # Same-scene pairs disjoint, cross pairs identical: the maximum 2 ln 2.
    high = js_loss(day_src, day_tgt, day_tgt.clone(), day_src.clone(), tau=1e-3)
    assert torch.isfinite(low) and torch.isfinite(high)
    assert low.item() == pytest.approx(-2 * LN2, abs=1e-5)
    assert high.item() == pytest.approx(2 * LN2, abs=1e-5)


def test_js_loss_gradient_finite_when_softmax_underflows():
    e = [(_one_hot_map(c) + 0.01 * torch.randn(2, 6, 3, 3)).requires_grad_() for c in (0, 0, 1, 1)]
    js_loss(*e, tau=1e-4).backward()
    assert all(torch.isfinite(t.grad).all() for t in e)


def test_js_divergence_matches_definition_and_handles_zeros():
    p = torch.softmax(torch.randn(5, 7, dtype=torch.float64), dim=1)
    q = torch.softmax(torch.randn(5, 7, dtype=torch.float64), dim=1)
    m = (p + q) / 2
    expected = 0.5 * (p * (p / m).log()).sum(1) + 0.5 * (q * (q / m).log()).sum(1)
    torch.testing.assert_close(js_divergence(p, q), expected)
    torch.testing.assert_close(js_divergence(p, p), torch.zeros(5, dtype=torch.float64))
    one_hot = torch.eye(3)
    disjoint = js_divergence(one_hot, one_hot.roll(1, dims=0))
    torch.testing.assert_close(disjoint, torch.full((3,), LN2))


def test_pixel_cosine_map_query_matches_itself_and_is_bounded():
    f = torch.randn(8, 5, 7)
    cos = pixel_cosine_map(f, f, (2, 3))
    assert cos.shape == (5, 7)
    assert cos[2, 3].item() == pytest.approx(1.0, abs=1e-6)
    assert cos.abs().max() <= 1 + 1e-6
    assert pixel_cosine_map(f, torch.randn(8, 4, 9), (4, 6)).shape == (4, 9)


def test_pixel_cosine_map_invariant_to_positive_scaling():
    f_a, f_b = torch.randn(8, 5, 7), torch.randn(8, 6, 4)
    reference = pixel_cosine_map(f_a, f_b, (1, 4))
    per_pixel_a = torch.rand(1, 5, 7) * 10 + 0.1
    per_pixel_b = torch.rand(1, 6, 4) * 10 + 0.1
    torch.testing.assert_close(pixel_cosine_map(3.5 * f_a, 0.2 * f_b, (1, 4)), reference)
    torch.testing.assert_close(
        pixel_cosine_map(f_a * per_pixel_a, f_b * per_pixel_b, (1, 4)), reference
    )


@pytest.mark.parametrize("query", [(5, 0), (0, 7), (-1, 2), (1.0, 2)])
def test_pixel_cosine_map_rejects_queries_outside(query):
    with pytest.raises(InputError, match="query"):
        pixel_cosine_map(torch.randn(8, 5, 7), torch.randn(8, 5, 7), query)


def dense_cosines(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return F.normalize(a, dim=1) @ F.normalize(b, dim=1).T


@pytest.mark.parametrize("chunk_size", [32, 25, 1, 96, 1000])
def test_chunked_pixel_correlation_equals_dense(chunk_size):
    a, b = torch.randn(96, 16), torch.randn(70, 16)
    torch.testing.assert_close(pixel_correlation(a, b, chunk_size), dense_cosines(a, b))


def test_pixel_correlation_accepts_maps_and_fills_out():
    f_a, f_b = torch.randn(16, 6, 5), torch.randn(16, 4, 7)
    out = torch.full((30, 28), float("nan"))
    result = pixel_correlation(f_a, f_b, chunk_size=7, out=out)
    assert result is out
    expected = dense_cosines(f_a.flatten(1).T, f_b.flatten(1).T)
    torch.testing.assert_close(out, expected)
    # Entry (pixel (1, 2) of a, pixel (3, 4) of b) is the cosine map's value there.
    torch.testing.assert_close(out[1 * 5 + 2].reshape(4, 7), pixel_cosine_map(f_a, f_b, (1, 2)))


def test_pixel_correlation_rejects_wrong_out():
    with pytest.raises(InputError, match="out"):
        pixel_correlation(torch.randn(10, 4), torch.randn(6, 4), out=torch.empty(6, 10))
    with pytest.raises(InputError, match="out"):
        pixel_correlation(torch.randn(10, 4), torch.randn(6, 4),
                          out=torch.empty(10, 6, dtype=torch.float64))
    with pytest.raises(InputError, match="chunk_size"):
        pixel_correlation(torch.randn(10, 4), torch.randn(6, 4), chunk_size=0)


@pytest.mark.parametrize("granularity", GRANULARITIES)
def test_content_correlation_gradcheck(granularity):
    e_a = torch.randn(2, 4, 4, 4, dtype=torch.float64, requires_grad=True)
    e_b = torch.randn(2, 4, 4, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(
        lambda a, b: content_correlation(a, b, granularity, grid=2), (e_a, e_b)
    )


def test_js_loss_gradcheck():
    e = streams(n=2, d=4, h=3, w=3, dtype=torch.float64, grad=True)
    assert torch.autograd.gradcheck(lambda *x: js_loss(*x, tau=0.5), tuple(e))


def test_cdc_and_js_keep_float32_under_autocast():
    e = streams()
    reference = cdc_loss(*e)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        under_autocast = cdc_loss(*e)
    assert under_autocast.dtype == torch.float32
    torch.testing.assert_close(under_autocast, reference)


def test_cdc_rejects_unequal_streams_with_the_argument_name():
    e_Sd, e_Sn, e_Td, _ = streams()
    with pytest.raises(InputError, match="e_Tn has shape"):
        cdc_loss(e_Sd, e_Sn, e_Td, torch.randn(2, 8, 3, 3))


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"granularity": "pixel"}, "granularity"),
        ({"distance": "l2"}, "distance"),
        ({"grid": 0}, "grid"),
        ({"illumination_pairs": "diag"}, "illumination_pairs"),
    ],
)
def test_cdc_rejects_unknown_options(kwargs, name):
    with pytest.raises(InputError, match=name):
        cdc_loss(*streams(), **kwargs)


def test_unknown_granularity_lists_valid_values():
    with pytest.raises(InputError, match="'image', 'token'"):
        pool_embeddings(torch.randn(1, 2, 3, 3), "pixel")


def test_js_rejects_bad_tau_and_shapes():
    with pytest.raises(InputError, match="tau"):
        js_loss(*streams(), tau=0.0)
    with pytest.raises(InputError, match="e_Sn"):
        js_loss(torch.randn(2, 8, 3, 3), torch.randn(2, 8), torch.randn(2, 8, 3, 3),
                torch.randn(2, 8, 3, 3))


def test_js_loss_reaches_a_quarter_of_its_bound_at_the_default_tau():
    """Opposite random unit embeddings (D = 128, the head's width): the default τ leaves the
    term room to act; at the old τ = 0.5 it reached 0.03 of 1.39."""
    torch.manual_seed(0)
    u = F.normalize(torch.randn(4, 128), dim=1)[:, :, None, None].expand(4, 128, 2, 2)
    value = js_loss(u, -u, -u, u).item()  # same-scene pairs opposite, cross pairs equal
    assert value >= 0.25 * 2 * LN2, value
