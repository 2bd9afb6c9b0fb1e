"""Properties of the Gram matrices, the style correlations and L_CDS."""

from __future__ import annotations

import pytest
import torch

from ccdistill.errors import InputError
from ccdistill.losses import cds_loss, gram_matrix, style_correlation


def features(n: int = 2, c: int = 6, h: int = 5, w: int = 4, dtype=torch.float32, grad=False):
    """Post-ReLU-like features F (N×C×H×W)."""
    return torch.relu(torch.randn(n, c, h, w, dtype=dtype)).requires_grad_(grad)


def four_streams(grad: bool = False, **kwargs):
    return [features(grad=grad, **kwargs) for _ in range(4)]


@pytest.mark.parametrize("center", [False, True])
def test_gram_is_symmetric_psd(center):
    g = gram_matrix(features(n=3, c=8), center)
    assert g.shape == (3, 8, 8)
    torch.testing.assert_close(g, g.transpose(1, 2))
    eigenvalues = torch.linalg.eigvalsh(g.double())
    assert eigenvalues.min() >= -1e-6 * eigenvalues.max()


def test_gram_matches_its_definition():
    f = features(n=1, c=3, h=2, w=2)
    flat = f[0].reshape(3, 4)
    torch.testing.assert_close(gram_matrix(f)[0], flat @ flat.T / (3 * 2 * 2))


@pytest.mark.parametrize("center", [False, True])
def test_gram_invariant_to_spatial_permutation(center):
    f = features(n=2, c=6, h=5, w=4)
    perm = torch.randperm(20)
    shuffled = f.reshape(2, 6, 20)[:, :, perm].reshape(2, 6, 5, 4)
    torch.testing.assert_close(gram_matrix(shuffled, center), gram_matrix(f, center))


def test_centred_gram_ignores_per_channel_offsets():
    f = features()
    offset = torch.rand(1, 6, 1, 1) * 5
    torch.testing.assert_close(gram_matrix(f + offset, center=True), gram_matrix(f, center=True),
                               atol=1e-5, rtol=1e-4)
    assert not torch.allclose(gram_matrix(f + offset), gram_matrix(f))


def test_gram_is_float32_under_autocast_and_for_half_inputs():
    f = features()
    reference = gram_matrix(f)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        g = gram_matrix(f)
    assert g.dtype == torch.float32
    torch.testing.assert_close(g, reference)
    assert gram_matrix(f.bfloat16()).dtype == torch.float32
    assert gram_matrix(f.double()).dtype == torch.float64


def test_style_cosine_bounded_with_unit_self_diagonal():
    g_a, g_b = gram_matrix(features(n=3)), gram_matrix(features(n=3))
    cor = style_correlation(g_a, g_b)
    assert cor.shape == (3, 3)
    assert cor.min() >= -1 - 1e-6 and cor.max() <= 1 + 1e-6
    torch.testing.assert_close(torch.diagonal(style_correlation(g_a, g_a)), torch.ones(3))
    aligned = style_correlation(g_a, g_b, pairs="aligned")
    torch.testing.assert_close(aligned, torch.diagonal(cor))


def test_style_difference_is_the_gram_difference():
    g_a, g_b = gram_matrix(features()), gram_matrix(features())
    torch.testing.assert_close(style_correlation(g_a, g_b, "difference"), g_a - g_b)


@pytest.mark.parametrize("center", [False, True])
def test_gram_gradcheck(center):
    f = torch.randn(2, 3, 3, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: gram_matrix(x, center), (f,))


@pytest.mark.parametrize("mode", ["cosine", "difference"])
def test_style_correlation_gradcheck(mode):
    g_a = torch.randn(2, 3, 3, dtype=torch.float64, requires_grad=True)
    g_b = torch.randn(2, 3, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, b: style_correlation(a, b, mode), (g_a, g_b))


@pytest.mark.parametrize("mode", ["cosine", "difference"])
@pytest.mark.parametrize("center", [False, True])
def test_cds_is_zero_when_night_equals_day(mode, center):
    f_Sd, _, f_Td, _ = four_streams()
    loss = cds_loss(f_Sd, f_Sd.clone(), f_Td, f_Td.clone(), mode, center)
    assert loss.item() == pytest.approx(0.0, abs=1e-6)
    assert cds_loss(*four_streams(), mode=mode, center=center).item() > 0


@pytest.mark.parametrize("mode", ["cosine", "difference"])
def test_cds_source_side_gets_no_gradient_unless_symmetric(mode):
    f_Sd, f_Sn, f_Td, f_Tn = four_streams(grad=True)
    cds_loss(f_Sd, f_Sn, f_Td, f_Tn, mode, center=True).backward()
    assert f_Sd.grad is None and f_Sn.grad is None
    assert f_Td.grad.abs().sum() > 0 and f_Tn.grad.abs().sum() > 0

    f_Sd, f_Sn, f_Td, f_Tn = four_streams(grad=True)
    cds_loss(f_Sd, f_Sn, f_Td, f_Tn, mode, center=True, symmetric=True).backward()
    assert f_Sd.grad.abs().sum() > 0 and f_Sn.grad.abs().sum() > 0


def test_cds_difference_matches_its_formula():
    f_Sd, f_Sn, f_Td, f_Tn = four_streams()
    delta_S = gram_matrix(f_Sd) - gram_matrix(f_Sn)
    delta_T = gram_matrix(f_Td) - gram_matrix(f_Tn)
    scale = ((delta_S**2).sum(dim=(1, 2)) + (delta_T**2).sum(dim=(1, 2))) / 2
    expected = (((delta_S - delta_T) ** 2).sum(dim=(1, 2)) / scale).mean()
    torch.testing.assert_close(cds_loss(f_Sd, f_Sn, f_Td, f_Tn, "difference"), expected)


def test_cds_rejects_bad_inputs_with_the_argument_name():
    f = four_streams()
    with pytest.raises(InputError, match="mode"):
        cds_loss(*f, mode="gram")
    with pytest.raises(InputError, match="f_Td has shape"):
        cds_loss(f[0], f[1], features(c=5), f[3])
    with pytest.raises(InputError, match="g_b"):
        style_correlation(gram_matrix(f[0]), torch.randn(2, 5, 5))
    with pytest.raises(InputError, match="f must have 4 dimensions"):
        gram_matrix(torch.randn(6, 5, 4))


def test_cds_difference_magnitude_does_not_shrink_with_channels():
    """Random features: the relative difference stays O(1) from C = 64 to C = 2048."""
    torch.manual_seed(0)
    values = {}
    for c in (64, 2048):
        f = [torch.rand(2, c, 8, 8) for _ in range(4)]
        values[c] = cds_loss(*f, mode="difference").item()
    assert max(values.values()) / min(values.values()) < 10, values
    assert all(0.1 < v <= 4.0 for v in values.values()), values


def test_cds_difference_is_zero_when_night_is_day():
    f_Sd, _, f_Td, _ = four_streams()
    assert cds_loss(f_Sd, f_Sd.clone(), f_Td, f_Td.clone(), "difference").item() == 0.0
