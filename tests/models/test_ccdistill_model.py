"""CCDistillModel: M_d and M_n, the shared projection head, deploy() and warm starts."""

from __future__ import annotations

import pytest
import torch

from ccdistill.errors import CheckpointError, InputError
from ccdistill.models import CCDistillModel, Segmenter, build_segmenter


def _count(parameters) -> int:
    return sum(p.numel() for p in parameters)


@pytest.mark.parametrize("arch", ["tiny", "mobilenetv3_lraspp"])
def test_both_streams_and_embeddings(arch):
    model = CCDistillModel(arch=arch, num_classes=7, embedding_dim=16)
    x = torch.randn(2, 3, 64, 64)
    for forward in (model.forward_day, model.forward_night):
        logits, features = forward(x)
        assert logits.shape == (2, 7, 64, 64)
        assert features.shape[1] == model.segmenter_night.feature_channels
        embeddings = model.embed(features)
        assert embeddings.shape == (2, 16, *features.shape[-2:])
        torch.testing.assert_close(embeddings.norm(dim=1), torch.ones_like(embeddings[:, 0]))


def test_day_and_night_are_separate_with_the_same_start():
    model = CCDistillModel()
    assert model.segmenter_day is not model.segmenter_night
    day, night = model.segmenter_day.state_dict(), model.segmenter_night.state_dict()
    assert all(torch.equal(day[key], night[key]) for key in night)
    with torch.no_grad():
        model.segmenter_day.classifier.weight.add_(1.0)
    assert not torch.equal(
        model.segmenter_day.classifier.weight, model.segmenter_night.classifier.weight
    )


def test_share_weights_halves_segmenter_parameters_without_duplicate_keys():
    separate, shared = CCDistillModel(), CCDistillModel(share_weights=True)
    assert shared.segmenter_day is shared.segmenter_night
    assert 2 * _count(shared.parameter_groups()["segmenters"]) == _count(
        separate.parameter_groups()["segmenters"]
    )
    keys = list(shared.state_dict())
    assert not any(key.startswith("segmenter_day.") for key in keys)
    assert len(keys) == len(set(keys))


def test_forward_is_the_night_stream():
    model = CCDistillModel().eval()
    x = torch.randn(1, 3, 32, 64)
    torch.testing.assert_close(model(x).logits, model.forward_night(x).logits)


def test_without_projection_embed_normalises_features():
    model = CCDistillModel(projection=False)
    assert model.projection is None
    features = torch.randn(2, 64, 4, 4)
    embeddings = model.embed(features)
    assert embeddings.shape == features.shape
    torch.testing.assert_close(embeddings, features / features.norm(dim=1, keepdim=True))
    assert model.parameter_groups()["projection"] == []
    with pytest.raises(InputError, match="features has shape"):
        model.embed(torch.randn(64, 4, 4))


def test_deploy_is_night_segmenter_alone():
    model = CCDistillModel().eval()
    deployed = model.deploy()
    assert isinstance(deployed, Segmenter)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(deployed(x).logits, model.forward_night(x).logits)
    assert _count(deployed.parameters()) < _count(model.parameters())
    keys = set(deployed.state_dict())
    assert keys == set(build_segmenter("tiny").state_dict())
    assert not any(key.startswith(("projection", "segmenter_", "layers")) for key in keys)


def test_deploy_day_and_bad_stream():
    model = CCDistillModel()
    assert model.deploy("day") is model.segmenter_day
    with pytest.raises(InputError, match="stream is 'dusk'"):
        model.deploy("dusk")


def test_parameter_groups_cover_every_parameter_once():
    model = CCDistillModel()
    groups = model.parameter_groups()
    assert set(groups) == {"segmenters", "projection"}
    grouped = [id(p) for group in groups.values() for p in group]
    assert len(grouped) == len(set(grouped))
    assert set(grouped) == {id(p) for p in model.parameters()}
    assert {id(p) for p in groups["projection"]} == {id(p) for p in model.projection.parameters()}


@pytest.mark.parametrize("share_weights", [False, True])
def test_load_segmenter_state_warm_starts_both(share_weights):
    source = build_segmenter("tiny")
    model = CCDistillModel(share_weights=share_weights)
    model.load_segmenter_state(source.state_dict())
    for segmenter in (model.segmenter_day, model.segmenter_night):
        torch.testing.assert_close(segmenter.classifier.weight, source.classifier.weight)


def test_load_segmenter_state_other_class_count():
    model = CCDistillModel(num_classes=19)
    with pytest.raises(CheckpointError) as info:
        other = build_segmenter("tiny", num_classes=5)
        model.load_segmenter_state(other.state_dict(), source="source.pth")
    message = str(info.value)
    assert message.startswith("source.pth does not fit")
    assert "classifier.weight (5, 64, 1, 1) (model: (19, 64, 1, 1))" in message
    assert "num_classes=19" in message
    # Nothing was half-loaded.
    assert model.segmenter_night.classifier.weight.shape == (19, 64, 1, 1)


def test_load_segmenter_state_whole_model_gets_a_hint():
    model = CCDistillModel()
    with pytest.raises(CheckpointError, match="whole CCDistillModel"):
        model.load_segmenter_state(CCDistillModel().state_dict())
