"""`check_layout` and `ccdistill data check` on good and broken fixture trees."""

from __future__ import annotations

import argparse
import shutil

import pytest
from fixtures import make_acdc, make_cityscapes, make_darkzurich, make_nightdriving, truncate

from ccdistill.data.check import DATASETS, check_layout
from ccdistill.cli.data_check import register as register_check, run as run_check
from ccdistill.errors import InputError

BUILDERS = {
    "cityscapes": lambda root: make_cityscapes(root, {"train": 3, "val": 2}),
    "darkzurich": lambda root: make_darkzurich(root, pairs=3, val=2, test=2),
    "acdc": lambda root: make_acdc(root, {"train": 2, "val": 2, "test": 1}),
    "nightdriving": lambda root: make_nightdriving(root, count=2),
}


def parse(argv):
    parser = argparse.ArgumentParser(prog="ccdistill data")
    register_check(parser.add_subparsers(dest="data_command", required=True))
    return parser.parse_args(argv)


@pytest.mark.parametrize("dataset", DATASETS)
def test_good_trees_are_usable(tmp_path, dataset):
    BUILDERS[dataset](tmp_path)
    report = check_layout(dataset, tmp_path, deep=True)
    assert report.usable, report.format()
    assert "usable: yes" in report.format()


def test_counts_are_reported_with_official_numbers(tmp_path):
    make_darkzurich(tmp_path, pairs=3, val=2, test=2)
    report = check_layout("darkzurich", tmp_path)
    train, val, test = report.splits
    assert train.counts == {"night images": 3, "day images": 2, "corresp CSVs": 1, "pairs": 3}
    assert val.counts == {"images": 2, "day references": 2, "labels": 2}
    assert test.counts == {"images": 2, "day references": 2}  # real test labels are withheld
    text = report.format()
    assert "night images 3 (official 2416)" in text and "images 2 (official 151)" in text


def test_absent_optional_split_keeps_the_tree_usable(tmp_path):
    make_cityscapes(tmp_path, {"train": 2})
    report = check_layout("cityscapes", tmp_path)
    assert report.usable
    assert "val    (optional) absent" in report.format() and "leftImg8bit_trainvaltest.zip" in report.format()


def test_missing_required_split_names_pattern_and_archive(tmp_path):
    make_darkzurich(tmp_path, pairs=2, val=2)
    shutil.rmtree(tmp_path / "rgb_anon/val")
    report = check_layout("darkzurich", tmp_path)
    assert not report.usable
    text = report.format()
    assert "val    (required) MISSING" in text
    assert "rgb_anon/val/night/<SEQ>/<SEQ>_frame_<6 digits>_rgb_anon.png" in text and "Dark_Zurich_val_anon.zip" in text
    assert "usable: no" in text


def test_broken_files_are_problems(tmp_path):
    make_cityscapes(tmp_path, {"train": 2, "val": 1})
    (tmp_path / "gtFine/train/aachen/aachen_000000_000019_gtFine_labelIds.png").unlink()
    truncate(next((tmp_path / "leftImg8bit/val").rglob("*.png")))
    report = check_layout("cityscapes", tmp_path)
    train, val, _ = report.splits
    assert not report.usable and not train.ok and not val.ok
    assert "aachen_000000_000019_gtFine_labelIds.png does not exist" in train.problems[0]
    assert "gtFine/train/<city>/<city>_<seq>_<frame>_gtFine_labelIds.png" in train.problems[0]
    assert "cannot be decoded" in val.problems[0]


def test_missing_root_and_unknown_dataset(tmp_path):
    report = check_layout("acdc", tmp_path / "nowhere")
    assert not report.usable and "does not exist" in report.format()
    with pytest.raises(InputError, match="nightdriving"):
        check_layout("kitti", tmp_path)


def test_cli_exit_status(tmp_path, capsys):
    make_acdc(tmp_path / "good", {"train": 2, "val": 1})
    assert run_check(parse(["check", "--dataset", "acdc", "--root", str(tmp_path / "good")])) == 0
    assert "usable: yes" in capsys.readouterr().out
    make_acdc(tmp_path / "broken", {"train": 2})  # no val split
    assert run_check(parse(["check", "--dataset", "acdc", "--root", str(tmp_path / "broken")])) == 1
    out = capsys.readouterr().out
    assert "rgb_anon/night/val/<SEQ>/<stem>_rgb_anon.png" in out and "rgb_anon_trainvaltest.zip" in out
    with pytest.raises(SystemExit):
        parse(["check", "--dataset", "kitti", "--root", str(tmp_path)])
