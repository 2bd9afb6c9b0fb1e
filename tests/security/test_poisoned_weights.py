"""Issue 11, case 1: a malicious pickle planted in the torch hub cache under the name of
torchvision's ImageNet file is refused and runs nothing (it used to run through
`build_segmenter(..., weights="imagenet")` and `ccdistill train model.weights=imagenet`)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torchvision.models import MobileNet_V3_Large_Weights, mobilenet_v3_large

from ccdistill.errors import CheckpointError
from ccdistill.models import CCDistillModel, build_segmenter
from ccdistill.models import weights as weights_module
from ccdistill.models.safe_weights import sha256_of

MOBILENET_FILE = "mobilenet_v3_large-8738ca79.pth"


class _Payload:
    """Unpickling this object calls open(marker, "w"): code execution that leaves a trace."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return open, (str(self.marker), "w")


@pytest.fixture
def torch_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "torch_home"
    monkeypatch.setenv("TORCH_HOME", str(home))
    assert Path(torch.hub.get_dir()) == home / "hub"
    return home


@pytest.fixture
def marker(tmp_path) -> Path:
    return tmp_path / "code_was_executed"


def _plant(torch_home: Path, marker: Path, name: str = MOBILENET_FILE) -> Path:
    path = torch_home / "hub" / "checkpoints" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"features.0.0.weight": _Payload(marker)}, path)
    return path


def test_the_planted_file_really_executes_code_when_unpickled(torch_home, marker):
    # The control: without weights_only, loading the file runs the payload.
    planted = _plant(torch_home, marker)
    torch.load(planted, weights_only=False)
    assert marker.exists()


@pytest.mark.parametrize("build", [
    lambda: build_segmenter("mobilenetv3_lraspp", weights="imagenet"),
    lambda: CCDistillModel("mobilenetv3_lraspp", weights="imagenet"),  # what `ccdistill train` builds
], ids=["build_segmenter", "CCDistillModel"])
def test_poisoned_hub_cache_is_refused_and_runs_nothing(torch_home, marker, build):
    planted = _plant(torch_home, marker)
    with pytest.raises(CheckpointError) as info:
        build()
    message = str(info.value)
    assert str(planted) in message  # which file
    assert "SHA-256" in message and "8738ca79" in message and "not unpickled" in message  # why
    assert f"Delete {planted}" in message and 'weights="/path/to/' in message  # what to do
    assert not marker.exists()


def test_weights_only_refuses_even_when_the_hash_check_is_fooled(torch_home, marker, monkeypatch):
    # Second line of defence: a file whose hash passed is still read with weights_only=True.
    planted = _plant(torch_home, marker)
    monkeypatch.setattr(weights_module, "verify_sha256", lambda *args: None)
    with pytest.raises(CheckpointError) as info:
        build_segmenter("mobilenetv3_lraspp", weights="imagenet")
    assert str(planted) in str(info.value) and "weights_only" in str(info.value)
    assert not marker.exists()


def test_poisoned_file_passed_as_a_path_is_refused(tmp_path, marker):
    planted = tmp_path / MOBILENET_FILE
    torch.save({"features.0.0.weight": _Payload(marker)}, planted)
    with pytest.raises(CheckpointError, match="could not be read"):
        build_segmenter("mobilenetv3_lraspp", weights=planted)
    assert not marker.exists()


def test_a_genuine_cached_file_loads_without_downloading(torch_home, monkeypatch):
    # A real state dict under a name whose prefix is its own SHA-256 (conftest blocks downloads).
    reference = mobilenet_v3_large().state_dict()
    staged = torch_home / "staged.pth"
    staged.parent.mkdir(parents=True)
    torch.save(reference, staged)
    prefix = sha256_of(staged)[:8]
    cached = _plant(torch_home, Path("unused"), name=f"mobilenet_v3_large-{prefix}.pth")
    staged.replace(cached)
    monkeypatch.setattr(weights_module, "_file_name", lambda segmenter: cached.name)
    monkeypatch.setattr(MobileNet_V3_Large_Weights, "get_state_dict", pytest.fail)  # never called
    segmenter = build_segmenter("mobilenetv3_lraspp", weights="imagenet")
    torch.testing.assert_close(segmenter.backbone.features[0][0].weight, reference["features.0.0.weight"])


def test_a_malicious_checkpoint_is_refused_with_the_whole_security_reason(tmp_path):
    """torch's refusal message used to be cut at 200 characters, losing why the file was refused."""
    import pickle

    from ccdistill.runfolder.checkpoint import TRAIN_FORMAT, read_checkpoint

    marker = tmp_path / "ran.txt"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    path = tmp_path / "ckpt_0000001.pt"
    with open(path, "wb") as file:
        pickle.dump({"format": TRAIN_FORMAT, "x": Payload()}, file)
    with pytest.raises(CheckpointError) as error:
        read_checkpoint(path, TRAIN_FORMAT)
    message = str(error.value)
    assert "weights_only" in message and "execute code" in message and "torch.save(state_dict" in message
    assert not marker.exists()
