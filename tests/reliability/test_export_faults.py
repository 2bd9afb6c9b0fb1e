"""Issue 11, item 5: an export never loses the previous submission nor leaves half a new one;
the ACDC submission has a CLI validator; test day references are not needed to export."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from ccdistill.cli import main
from ccdistill.evaluation import export_darkzurich, validate_darkzurich_submission
from ccdistill.errors import InputError
from tests.data.fixtures import SIZE, make_acdc, make_darkzurich, truncate
from tests.reliability.faults import assert_clear, deploy_checkpoint, run_cli


@pytest.fixture(scope="module")
def deploy(tmp_path_factory) -> Path:
    return deploy_checkpoint(tmp_path_factory.mktemp("run") / "deploy.pt")


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def export_argv(benchmark: str, deploy: Path, root: Path, out: Path, *extra: str) -> list:
    return ["export", benchmark, "--checkpoint", deploy, "--root", root, "--out", out, "--device", "cpu", *extra]


def test_force_with_a_corrupt_image_midway_keeps_the_old_submission(tmp_path, capsys, deploy):
    root = make_darkzurich(tmp_path / "dz", pairs=1, val=1, test=3)
    out = tmp_path / "submission"
    assert run_cli(export_argv("darkzurich", deploy, root, out), capsys)[0] == 0
    (out / "notes.txt").write_text("mine")
    before = snapshot(out)
    truncate(sorted((root / "rgb_anon/test/night").rglob("*.png"))[1])
    status, err = run_cli(export_argv("darkzurich", deploy, root, out, "--force"), capsys)
    assert_clear(status, err, "cannot be decoded", "extract it again")
    assert snapshot(out) == before  # nothing lost, nothing half-written
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no staging folder left


def test_a_failing_prediction_stream_leaves_no_half_submission(tmp_path):
    out = tmp_path / "submission"
    probs = torch.full((19, *SIZE), 1 / 19)

    def predictions(fail_at: int | None):
        for i in range(3):
            if i == fail_at:
                raise InputError("prediction 1 failed")
            yield f"GOPR0364_frame_{i:06d}_rgb_anon.png", probs

    export_darkzurich(predictions(None), out)
    before = snapshot(out)
    with pytest.raises(InputError, match="prediction 1 failed"):
        export_darkzurich(predictions(1), out, force=True)
    assert snapshot(out) == before
    with pytest.raises(InputError, match="not empty"):  # refused before anything is touched
        export_darkzurich(predictions(None), out)
    assert snapshot(out) == before
    new = tmp_path / "new"
    with pytest.raises(InputError):
        export_darkzurich(predictions(1), new)
    assert not new.exists() or not any(new.iterdir())


def test_force_replaces_only_the_submission_folders(tmp_path):
    out = tmp_path / "submission"
    probs = torch.full((19, *SIZE), 1 / 19)
    export_darkzurich([("GOPR0364_frame_000000_rgb_anon.png", probs)], out)
    (out / "notes.txt").write_text("mine")
    export_darkzurich([("GOPR0364_frame_000001_rgb_anon.png", probs)], out, force=True)
    assert (out / "notes.txt").read_text() == "mine"
    assert [p.name for p in (out / "labelTrainIds").iterdir()] == ["GOPR0364_frame_000001_rgb_anon.png"]
    assert validate_darkzurich_submission(out, image_size=SIZE) == []


def test_missing_test_day_reference_does_not_abort_the_export(tmp_path, capsys, deploy):
    root = make_darkzurich(tmp_path / "dz", pairs=1, val=1, test=2)
    next((root / "rgb_anon/test_ref").rglob("*.png")).unlink()
    out = tmp_path / "submission"
    assert run_cli(export_argv("darkzurich", deploy, root, out), capsys)[0] == 0
    assert len(list((out / "confidence").glob("*.png"))) == 2


def test_acdc_submission_validator(tmp_path, capsys, deploy):
    root = make_acdc(tmp_path / "acdc", {"train": 1, "val": 1, "test": 2})
    out = tmp_path / "submission"
    assert run_cli(export_argv("acdc", deploy, root, out), capsys)[0] == 0
    validate = ["export", "validate", "--benchmark", "acdc", "--out", out, "--root", root, "--image-size", "32x64"]
    capsys.readouterr()
    assert run_cli(validate, capsys)[0] == 0
    removed = sorted((out / "labelTrainIds").iterdir())[0]
    removed.unlink()
    capsys.readouterr()
    assert main([str(a) for a in validate]) == 1
    assert f"problem: labelTrainIds/{removed.name}: missing" in capsys.readouterr().out


def test_out_that_is_a_file(tmp_path, capsys, deploy):
    root = make_darkzurich(tmp_path / "dz", pairs=1, val=1, test=1)
    out = tmp_path / "submission.zip"
    out.write_bytes(b"zip")
    status, err = run_cli(export_argv("darkzurich", deploy, root, out, "--force"), capsys)
    assert_clear(status, err, str(out), "is not a folder")
    assert out.read_bytes() == b"zip"
