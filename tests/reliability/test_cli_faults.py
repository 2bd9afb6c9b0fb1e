"""Issue 11, item 7 (command line) and 8: every bad input or OS fault of the CLI ends in one
sentence naming the path, option or value and what to do, with exit status 2."""

from __future__ import annotations

import errno
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch.utils.data import DataLoader, Dataset

from ccdistill import cli
from ccdistill.cli.args import optional_size, parse_size
from ccdistill.cli.messages import os_error_message
from ccdistill.errors import DataError, InputError, user_message
from ccdistill.toycity import generate_toycity
from tests.data.fixtures import block_scene, make_darkzurich, write_png
from tests.reliability.faults import assert_clear, deploy_checkpoint, read_only, run_cli

CONFIG = Path(__file__).resolve().parents[2] / "configs" / "toycity.yaml"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def toy(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("toy")
    generate_toycity(root, size=(32, 64), n_train=2, n_val=1, n_test=2, progress=False, workers=1)
    return root


@pytest.fixture(scope="module")
def deploy(tmp_path_factory) -> Path:
    return deploy_checkpoint(tmp_path_factory.mktemp("run") / "deploy.pt")


def eval_args(checkpoint: Path, root: Path, *extra: str) -> list[str]:
    return ["eval", "--checkpoint", checkpoint, "--config", CONFIG, "--split", "test", "--device", "cpu",
            *extra, f"data.root={root}", "data.eval_size=null"]


# ------------------------------------------------------------------------------ no torch at --help
def test_building_the_parser_imports_no_torch():
    code = "import sys; from ccdistill.cli import build_parser; build_parser(); assert 'torch' not in sys.modules"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_python_dash_m_ccdistill_answers_help():
    done = subprocess.run([sys.executable, "-m", "ccdistill", "train", "--help"], cwd=REPO, capture_output=True,
                          text=True)
    assert done.returncode == 0 and "--config" in done.stdout, done.stderr


def test_choices_in_the_parser_match_the_library():
    from ccdistill.cli import data_check, data_translate
    from ccdistill.data.check import DATASETS
    from ccdistill.data.translate import FOLDER_METHODS

    assert data_check.DATASETS == DATASETS and data_translate.FOLDER_METHODS == FOLDER_METHODS


# ------------------------------------------------------------------------------ bad arguments
def test_bogus_device_is_an_argument_error(capsys, deploy, toy):
    status, err = run_cli(eval_args(deploy, toy)[:-2] + ["--device", "bogus"], capsys)
    assert_clear(status, err, "--device", "'bogus' is not a device", "auto, cpu, cuda")


def test_cuda_without_a_gpu_says_so_not_truncated_checkpoint(capsys, monkeypatch, deploy, toy):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    status, err = run_cli(eval_args(deploy, toy) + ["--device", "cuda"], capsys)
    assert_clear(status, err, "'cuda' asks for a CUDA GPU", "use device cpu or auto")
    assert "truncated" not in err


def test_bench_repeats_zero(capsys):
    status, err = run_cli(["bench", "--repeats", "0"], capsys)
    assert_clear(status, err, "--repeats", "at least 1", "got 0")


def test_deploy_without_meta(capsys, tmp_path, toy):
    checkpoint = deploy_checkpoint(tmp_path / "deploy.pt", meta=False)
    status, err = run_cli(eval_args(checkpoint, toy), capsys)
    assert_clear(status, err, str(checkpoint), "no 'meta' entry", "ccdistill train")


def test_ten_class_checkpoint_on_nineteen_class_data(capsys, tmp_path, toy):
    checkpoint = deploy_checkpoint(tmp_path / "deploy.pt", num_classes=10)
    status, err = run_cli(eval_args(checkpoint, toy), capsys)
    assert_clear(status, err, "predicts 10 classes", "19 Cityscapes trainIds", "model.num_classes=19")


def test_root_that_is_a_file(capsys, tmp_path, deploy):
    file = tmp_path / "root.txt"
    file.write_text("x")
    status, err = run_cli(eval_args(deploy, file), capsys)
    assert_clear(status, err, str(file), "is a file, expected a folder")
    status, err = run_cli(["export", "darkzurich", "--checkpoint", deploy, "--root", file, "--out",
                           tmp_path / "sub", "--device", "cpu"], capsys)
    assert_clear(status, err, str(file), "is a file, expected a folder")


def test_eval_builds_only_the_evaluation_split(capsys, tmp_path, deploy):
    # No source root and no training pairs: eval needs neither.
    target = make_darkzurich(tmp_path / "dz", pairs=1, val=2, test=0)
    for night in (target / "rgb_anon/train").rglob("*.png"):
        night.unlink()
    status = run_cli(["eval", "--checkpoint", deploy, "--config", CONFIG, "--split", "val", "--device", "cpu",
                      "data.dataset=cityscapes_darkzurich", "data.source_root=", f"data.target_root={target}",
                      "data.eval_size=null"], capsys)[0]
    assert status == 0


def test_eval_on_withheld_test_labels(capsys, tmp_path, deploy):
    target = make_darkzurich(tmp_path / "dz", pairs=1, val=1, test=2)  # real Dark Zurich: no gt/test
    status, err = run_cli(["eval", "--checkpoint", deploy, "--config", CONFIG, "--split", "test", "--device", "cpu",
                           "data.dataset=cityscapes_darkzurich", f"data.target_root={target}"], capsys)
    assert_clear(status, err, "data.eval_split='test'", "no test labels", "withheld", "eval --split val")


# ------------------------------------------------------------------------------ OS errors, one mapping
@pytest.mark.parametrize("command", ["eval", "data toy", "data translate", "export"])
def test_read_only_output_folders(capsys, monkeypatch, tmp_path, toy, deploy, command):
    locked = read_only(monkeypatch, tmp_path / "locked")
    out = locked / "out"
    argv = {
        "eval": eval_args(deploy, toy, "--output", out),
        "data toy": ["data", "toy", "--root", out, "--size", "32x64", "--n-train", "1", "--n-val", "1",
                     "--n-test", "1", "--quiet"],
        "data translate": ["data", "translate", "--method", "relight", "--source", toy / "source/leftImg8bit/val",
                           "--out", out, "--quiet"],
        "export": ["export", "darkzurich", "--checkpoint", deploy, "--root", toy / "target", "--out", out,
                   "--device", "cpu"],
    }[command]
    status, err = run_cli(argv, capsys)
    assert_clear(status, err, "permission denied", str(locked), "choose a folder you can write to")


def test_disk_full_names_the_output(capsys, tmp_path, toy, deploy):
    out = tmp_path / "eval"
    out.mkdir()
    (out / "metrics.json").symlink_to("/dev/full")  # every write there fails with ENOSPC
    status, err = run_cli(eval_args(deploy, toy, "--output", out), capsys)
    assert_clear(status, err, "no space left on device", str(out), "free space or choose another output")


def test_os_error_messages_name_the_path_and_what_to_do():
    cases = {
        PermissionError(errno.EACCES, "Permission denied", "/a"): "/a: permission denied",
        OSError(errno.ENOSPC, "No space left on device", "/b"): "no space left on device at /b; free space",
        IsADirectoryError(errno.EISDIR, "Is a directory", "/c"): "/c is a folder, expected a file",
        NotADirectoryError(errno.ENOTDIR, "Not a directory", "/d/x"): "/d/x (or a folder above it) is a file, expected a folder",
        FileNotFoundError(errno.ENOENT, "No such file", "/e"): "/e does not exist; check the path",
    }
    for error, expected in cases.items():
        assert expected in os_error_message(error), error
    assert os_error_message(OSError(errno.EIO, "I/O error")) is None  # internal: keeps its traceback


def test_torch_write_failure_reads_as_disk_full(capsys, monkeypatch):
    from ccdistill.cli import doctor

    def failing(args):
        raise RuntimeError("[enforce fail at inline_container.cc:603] . unexpected pos 64 vs 0")

    monkeypatch.setattr(doctor, "run", failing)
    status, err = run_cli(["doctor"], capsys)
    assert_clear(status, err, "the disk is probably full", "free space or choose another output")


# ------------------------------------------------------------------------------ buried messages
class _Broken(Dataset):
    def __len__(self) -> int:
        return 2

    def __getitem__(self, index):
        raise DataError("label /data/x.png cannot be decoded; extract it again")


def test_worker_errors_keep_their_own_message():
    with pytest.raises(DataError) as caught:
        next(iter(DataLoader(_Broken(), num_workers=1)))
    assert "Traceback" in str(caught.value)  # what torch re-raises: the worker's whole traceback
    assert user_message(caught.value) == "label /data/x.png cannot be decoded; extract it again"


def test_toycity_errors_talk_about_ccdistill_data_toy(capsys, tmp_path, deploy):
    root = tmp_path / "toy"
    generate_toycity(root, size=(32, 64), n_train=1, n_val=1, n_test=1, progress=False, workers=1)
    manifest = json.loads((root / "manifest.json").read_text())
    # A stray night image without its label: consistent with the manifest, refused by the loader.
    stray = root / "target/rgb_anon/test/night/TOY0004/TOY0004_frame_000099_rgb_anon.png"
    write_png(stray, block_scene(1, (32, 64))[0])
    assert "target/rgb_anon/test/night/TOY0004/TOY0004_frame_000099_rgb_anon.png" not in manifest["files"]
    status, err = run_cli(eval_args(deploy, root), capsys)
    assert_clear(status, err, "ToyCity root", "ccdistill data toy --root", "--force")
    assert "ethz.ch" not in err and "Dark_Zurich" not in err


# ------------------------------------------------------------------------------ item 8: scores
def test_metrics_json_is_strict_json_with_null_for_absent_classes(capsys, tmp_path, toy, deploy):
    out = tmp_path / "eval"
    capsys.readouterr()
    assert cli.main([str(a) for a in eval_args(deploy, toy, "--output", out)]) == 0
    printed = capsys.readouterr().out

    def refuse(constant):
        raise AssertionError(f"{constant} is not JSON")

    metrics = json.loads((out / "metrics.json").read_text(), parse_constant=refuse)
    assert None in metrics["per_class_iou"] and "no pixels of this class" in metrics["null"]
    assert "n/a: no pixels of this class" in printed
    assert not any(isinstance(v, float) and math.isnan(v) for v in metrics["per_class_iou"])


def test_all_ignored_labels_are_not_scored_silently(capsys, tmp_path, deploy):
    target = make_darkzurich(tmp_path / "dz", pairs=1, val=2, test=0)
    for label in (target / "gt/val").rglob("*_gt_labelTrainIds.png"):
        write_png(label, block_scene(0, (32, 64))[1] * 0 + 255)
    status, err = run_cli(["eval", "--checkpoint", deploy, "--config", CONFIG, "--split", "val", "--device", "cpu",
                           "data.dataset=cityscapes_darkzurich", f"data.target_root={target}",
                           "data.eval_size=null"], capsys)
    assert_clear(status, err, "no labelled pixel", "every label pixel is 255", "Check the labels")


def test_parse_size_is_the_one_size_parser():
    assert parse_size("64x128") == (64, 128) and optional_size(None, "--size") is None
    with pytest.raises(InputError, match="--cpu-size must be HEIGHTxWIDTH"):
        parse_size("64", "--cpu-size")
    assert os.path.basename(cli.__file__) == "__init__.py"  # ccdistill/cli/ is a package
