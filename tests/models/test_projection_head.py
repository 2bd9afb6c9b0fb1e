"""The projection head of CDC: e = L2-normalise(Proj(F)), one unit vector per pixel."""

from __future__ import annotations

import pytest
import torch

from ccdistill.errors import InputError
from ccdistill.models import ProjectionHead


def test_embeddings_are_unit_norm_with_the_embedding_dim():
    head = ProjectionHead(in_channels=32, embedding_dim=16)
    embeddings = head(torch.randn(2, 32, 4, 6))
    assert embeddings.shape == (2, 16, 4, 6)
    torch.testing.assert_close(embeddings.norm(dim=1), torch.ones(2, 4, 6))


def test_layers_follow_the_spec():
    head = ProjectionHead(in_channels=32, embedding_dim=16)
    convs = [m for m in head.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [(c.in_channels, c.out_channels, c.kernel_size) for c in convs] == [
        (32, 32, (1, 1)), (32, 16, (1, 1)),
    ]
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in head.modules())


def test_gradients_reach_the_features_and_the_head():
    head = ProjectionHead(in_channels=8, embedding_dim=4)
    features = torch.randn(2, 8, 3, 3, requires_grad=True)
    (head(features)[:, 0] ** 2).sum().backward()
    assert features.grad is not None and features.grad.abs().sum() > 0
    assert all(p.grad is not None for p in head.parameters())


def test_wrong_channel_count_names_features_and_expected():
    head = ProjectionHead(in_channels=64)
    with pytest.raises(InputError) as info:
        head(torch.randn(1, 32, 4, 4))
    message = str(info.value)
    assert message.startswith("features has 32 channels")
    assert "built for 64" in message


def test_three_dimensional_features():
    with pytest.raises(InputError, match="features has shape \\(32, 4, 4\\)"):
        ProjectionHead(in_channels=32)(torch.randn(32, 4, 4))


@pytest.mark.parametrize("in_channels, embedding_dim", [(0, 128), (32, 0), (32, 1.5)])
def test_bad_sizes(in_channels, embedding_dim):
    with pytest.raises(InputError):
        ProjectionHead(in_channels, embedding_dim)
