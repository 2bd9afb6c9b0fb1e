"""Issue 18, item 5, data trees: files whose content differs from their name, pair lists as
editors save them, a real dataset given where ToyCity is read, and archives extracted each into
its own folder. Each is answered in one sentence naming the path and what to do."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PIL import Image

from ccdistill.config import load_config
from ccdistill.data.check import check_layout
from ccdistill.data.darkzurich import find_pairs, read_pair_rows
from ccdistill.data.io import read_image, read_label
from ccdistill.errors import DataError
from ccdistill.notebook import require_toycity
from tests.data.fixtures import dz_pair_rows, make_acdc, make_cityscapes, make_darkzurich
from tests.engine.helpers import CONFIG
from tests.reliability.faults import assert_clear, deploy_checkpoint, run_cli


def _as_jpeg(path: Path) -> Path:
    """Re-save a PNG as JPEG under its own .png name (what an image tool's "export" may do)."""
    image = Image.open(path).convert("RGB")
    image.save(path, format="JPEG", quality=90)
    return path


def _problems(report) -> list[str]:
    return [*report.problems, *(problem for split in report.splits for problem in split.problems)]


# ------------------------------------------------------------------------------ content vs name
def test_a_jpeg_saved_as_png_is_read_and_not_called_truncated(tmp_path):
    root = make_darkzurich(tmp_path / "dz", pairs=2, val=2, test=2)
    images = sorted((root / "rgb_anon/test/night").rglob("*.png"))
    jpeg = _as_jpeg(images[-1])  # not the first sample: only its header and end are read
    report = check_layout("darkzurich", root)
    assert report.usable, report.format()
    assert not any("truncated" in problem for problem in _problems(report))
    assert read_image(jpeg).shape[:2] == Image.open(jpeg).size[::-1]


def test_a_jpeg_label_is_refused_as_lossy(tmp_path):
    root = make_darkzurich(tmp_path / "dz", pairs=2, val=3, test=1)
    label = sorted((root / "gt/val/night").rglob("*_gt_labelTrainIds.png"))[-1]
    Image.open(label).save(label, format="JPEG")
    report = check_layout("darkzurich", root)
    assert not report.usable
    assert any(f"label {label} is a JPEG image under a .png name" in p and "extract the label PNG again" in p
               for p in _problems(report)), report.format()
    with pytest.raises(DataError, match="JPEG compression changes label values"):
        read_label(label)


def test_bytes_after_the_png_end_marker_are_not_truncation(tmp_path):
    root = make_darkzurich(tmp_path / "dz", pairs=2, val=2, test=2)
    image = sorted((root / "rgb_anon/test/night").rglob("*.png"))[-1]
    image.write_bytes(image.read_bytes() + b"trailing metadata from a tool")
    assert check_layout("darkzurich", root).usable


# ------------------------------------------------------------------------------ pair lists
def _pairs_csv(root: Path) -> Path:
    return next((root / "corresp/train/night").glob("*.csv"))


def test_a_byte_order_mark_in_a_pair_list(tmp_path):
    root = make_darkzurich(tmp_path / "dz", pairs=2)
    csv = _pairs_csv(root)
    csv.write_bytes(b"\xef\xbb\xbf" + csv.read_bytes())
    assert len(find_pairs(root)) == 2
    assert check_layout("darkzurich", root).usable


def test_windows_line_ends_and_separators_in_a_pair_list(tmp_path):
    root = make_darkzurich(tmp_path / "dz", pairs=2)
    rows = [f"{night},{day}".replace("/", "\\") for night, day in dz_pair_rows(2)]
    _pairs_csv(root).write_bytes("\r\n".join(rows).encode() + b"\r\n")
    assert [row[1:] for row in read_pair_rows(_pairs_csv(root))] == [tuple(r) for r in dz_pair_rows(2)]


def test_a_pair_list_saved_as_utf16_is_named(tmp_path):
    root = make_darkzurich(tmp_path / "dz", pairs=2)
    csv = _pairs_csv(root)
    csv.write_bytes(csv.read_text().encode("utf-16"))
    with pytest.raises(DataError, match=f"pair list {csv} is not UTF-8 text .*save it as UTF-8 CSV"):
        find_pairs(root)


def test_an_invisible_character_in_a_row_is_shown(tmp_path):
    root = make_darkzurich(tmp_path / "dz", pairs=2)
    night, day = dz_pair_rows(1)[0]
    _pairs_csv(root).write_text(f"{night}\u200b,{day}\n")  # a zero-width space after the path
    with pytest.raises(DataError, match=r"'.*\\u200b_rgb_anon\.png' \(with invisible characters\) does not exist"):
        find_pairs(root)


# ------------------------------------------------------------------------------ another dataset's root
@pytest.fixture
def real_roots(tmp_path) -> dict[str, Path]:
    return {"Dark Zurich": make_darkzurich(tmp_path / "dz", pairs=1, val=1, test=1),
            "Cityscapes": make_cityscapes(tmp_path / "cs")}


@pytest.mark.parametrize("name", ["Dark Zurich", "Cityscapes"])
def test_a_real_dataset_as_the_toycity_root(capsys, tmp_path, real_roots, name):
    root = real_roots[name]
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    status, err = run_cli(["train", "--config", CONFIG, "profile=ci", f"data.root={root}",
                           f"output={tmp_path / 'run'}"], capsys)
    assert_clear(status, err, f"data.root {root} is not a ToyCity: it holds the {name} dataset",
                 "data.dataset=cityscapes_darkzurich", "point data.root at a ToyCity folder")
    assert "--force" not in err and "regenerate" not in err
    deploy = deploy_checkpoint(tmp_path / "deploy.pt")
    status, err = run_cli(["eval", "--checkpoint", deploy, "--config", CONFIG, "--device", "cpu",
                           f"data.root={root}"], capsys)
    assert_clear(status, err, f"it holds the {name} dataset")
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before


def test_a_real_dataset_as_the_notebooks_root(real_roots):
    root = real_roots["Dark Zurich"]
    with pytest.raises(DataError) as error:
        require_toycity(root)
    message = str(error.value)
    assert "is not a ToyCity: it holds the Dark Zurich dataset" in message and "ccdistill data toy --root" not in message


def test_check_names_the_dataset_a_root_holds(real_roots):
    report = check_layout("cityscapes", real_roots["Dark Zurich"])
    assert any("it holds the Dark Zurich dataset" in p and "--dataset darkzurich" in p for p in report.problems)


# ------------------------------------------------------------------------------ archives in folders of their own
def _into_folders(root: Path, folders: dict[str, list[str]]) -> Path:
    """Move each listed part of a correct tree into a folder of the archive's name."""
    for folder, parts in folders.items():
        for part in parts:
            (root / folder / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(root / part), str(root / folder / part))
    for leftover in [child for child in root.iterdir() if child.name not in folders]:
        shutil.rmtree(leftover)  # the emptied top folders
    return root


def _merge(root: Path, holders: list[str]) -> None:
    """What the suggested `cp -al A/. B/. .` does."""
    for holder in holders:
        shutil.copytree(root / holder, root, dirs_exist_ok=True)


DZ_ARCHIVES = {"Dark_Zurich_train_anon": ["rgb_anon/train", "corresp"],
               "Dark_Zurich_val_anon": ["rgb_anon/val", "rgb_anon/val_ref", "gt"],
               "Dark_Zurich_test_anon_withoutGt": ["rgb_anon/test", "rgb_anon/test_ref"]}
CITYSCAPES_ARCHIVES = {"leftImg8bit_trainvaltest": ["leftImg8bit"], "gtFine_trainvaltest": ["gtFine"]}
ACDC_ARCHIVES = {"rgb_anon_trainvaltest": ["rgb_anon"], "gt_trainval": ["gt"]}


@pytest.mark.parametrize("dataset, make, archives", [
    ("darkzurich", lambda root: make_darkzurich(root, pairs=2, val=2, test=1), DZ_ARCHIVES),
    ("cityscapes", make_cityscapes, CITYSCAPES_ARCHIVES),
    ("acdc", make_acdc, ACDC_ARCHIVES),
])
def test_archives_extracted_each_into_its_own_folder(tmp_path, dataset, make, archives):
    root = _into_folders(make(tmp_path / dataset), archives)
    report = check_layout(dataset, root)
    problems = " ".join(report.problems)
    assert not report.usable and "extracted each into its own folder" in problems
    assert all(f"{folder}/." in problems for folder in archives) and f"cd {root} && cp -al" in problems
    assert "did you mean --root" not in problems  # no single folder holds the whole dataset
    _merge(root, list(archives))
    assert check_layout(dataset, root).usable


def test_labels_one_level_down_are_pointed_to(tmp_path):
    root = make_cityscapes(tmp_path / "cs")
    (root / "gtFine_trainvaltest").mkdir()
    shutil.move(str(root / "gtFine"), str(root / "gtFine_trainvaltest" / "gtFine"))
    report = check_layout("cityscapes", root)
    assert any(f"{root / 'gtFine'} not found, but {root / 'gtFine_trainvaltest' / 'gtFine'} is: move it up" in p
               for p in report.problems), report.format()


def test_a_dataset_two_levels_down(tmp_path):
    root = make_darkzurich(tmp_path / "dz", pairs=2, val=2, test=1)
    inner = root / "Dark_Zurich" / "Dark_Zurich"  # an archive unzipped into a folder of its name, twice
    inner.mkdir(parents=True)
    for part in ("rgb_anon", "gt", "corresp"):
        shutil.move(str(root / part), str(inner / part))
    report = check_layout("darkzurich", root)
    assert any(f"did you mean --root {inner}" in p for p in report.problems), report.format()
    assert check_layout("darkzurich", inner).usable
