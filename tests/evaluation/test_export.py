"""Dark Zurich and ACDC submission exports round-trip through their validators; corruptions
are reported by file name."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

from ccdistill.errors import DataError, InputError
from ccdistill.evaluation import (
    darkzurich_test_names,
    export_acdc,
    export_darkzurich,
    read_confidence,
    validate_darkzurich_submission,
    zip_submission,
)
from ccdistill.evaluation.submission_check import validate_acdc_submission

SIZE = (6, 10)  # (height, width): small stand-in for 1080×1920
NAMES = ["GOPR0364_frame_000001_rgb_anon.png", "GP010364_frame_000009_rgb_anon.png"]


def _probs(seed: int, size=SIZE) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return (3 * torch.randn(19, *size, generator=generator)).softmax(0)


@pytest.fixture()
def predictions() -> list[tuple[str, torch.Tensor]]:
    return [(name, _probs(i)) for i, name in enumerate(NAMES)]


@pytest.fixture()
def submission(tmp_path, predictions):
    return export_darkzurich(predictions, tmp_path / "submit")


def test_export_then_validate_has_no_problems(submission):
    assert validate_darkzurich_submission(submission, expected_names=NAMES, image_size=SIZE) == []
    for folder in ("labelTrainIds", "labelTrainIds_invalid", "confidence"):
        assert sorted(p.name for p in (submission / folder).iterdir()) == sorted(NAMES)


def test_labels_are_the_argmax_and_confidence_round_trips(submission, predictions):
    for name, probs in predictions:
        labels = Image.open(submission / "labelTrainIds" / name)
        assert labels.mode == "L"
        np.testing.assert_array_equal(np.array(labels), probs.argmax(0).numpy())
        confidence = Image.open(submission / "confidence" / name)
        assert confidence.mode == "I;16"
        np.testing.assert_allclose(read_confidence(submission / "confidence" / name),
                                   probs.max(0).values.double().numpy(), rtol=0, atol=1 / 65535)


def test_invalid_labels_follow_the_confidence_threshold(tmp_path, predictions):
    out = export_darkzurich(predictions, tmp_path / "t", invalid_threshold=0.6)
    for name, probs in predictions:
        invalid = np.array(Image.open(out / "labelTrainIds_invalid" / name))
        labels = np.array(Image.open(out / "labelTrainIds" / name))
        low = probs.max(0).values.numpy() < 0.6
        assert low.any() and (~low).any()  # the case tests both branches
        assert (invalid[low] == 255).all()
        np.testing.assert_array_equal(invalid[~low], labels[~low])


def test_invalid_policy_none_copies_the_labels(tmp_path, predictions):
    out = export_darkzurich(predictions, tmp_path / "n", invalid_policy="none")
    for name, _ in predictions:
        np.testing.assert_array_equal(np.array(Image.open(out / "labelTrainIds_invalid" / name)),
                                      np.array(Image.open(out / "labelTrainIds" / name)))


def test_names_may_be_paths_or_stems_and_output_size_resizes(tmp_path):
    preds = [("test/night/GOPR0364/GOPR0364_frame_000001_rgb_anon", _probs(0, (3, 5)))]
    out = export_darkzurich(preds, tmp_path / "s", output_size=SIZE)
    assert validate_darkzurich_submission(out, expected_names=NAMES[:1], image_size=SIZE) == []


def test_missing_and_extra_files_are_reported_by_name(submission):
    (submission / "confidence" / NAMES[0]).unlink()
    Image.fromarray(np.zeros(SIZE, np.uint8)).save(submission / "labelTrainIds" / "GOPR0364_frame_000999_rgb_anon.png")
    (submission / "labelTrainIds_invalid" / "notes.txt").write_text("hi")
    problems = validate_darkzurich_submission(submission, expected_names=NAMES, image_size=SIZE)
    assert f"confidence/{NAMES[0]}: missing" in problems
    assert any(p.startswith("labelTrainIds/GOPR0364_frame_000999_rgb_anon.png: extra") for p in problems)
    assert any(p.startswith("labelTrainIds_invalid/notes.txt: extra") for p in problems)
    assert len(problems) == 3


def test_wrong_size_is_reported(submission):
    Image.fromarray(np.zeros((5, 10), np.uint8)).save(submission / "labelTrainIds" / NAMES[1])
    problems = validate_darkzurich_submission(submission, expected_names=NAMES, image_size=SIZE)
    assert problems == [f"labelTrainIds/{NAMES[1]}: size 5×10 (height×width), expected 6×10"]


def test_wrong_dtype_is_reported(submission):
    # An 8-bit confidence map and a 16-bit label map.
    Image.fromarray(np.zeros(SIZE, np.uint8)).save(submission / "confidence" / NAMES[0])
    Image.fromarray(np.zeros(SIZE, np.uint16)).save(submission / "labelTrainIds" / NAMES[1])
    problems = validate_darkzurich_submission(submission, expected_names=NAMES, image_size=SIZE)
    assert len(problems) == 2
    assert problems[0].startswith(f"labelTrainIds/{NAMES[1]}: mode 'I;16'")
    assert problems[1].startswith(f"confidence/{NAMES[0]}: mode 'L'")


def test_label_values_out_of_range_are_reported(submission):
    bad = np.zeros(SIZE, np.uint8)
    bad[0, 0] = 19
    Image.fromarray(bad).save(submission / "labelTrainIds" / NAMES[0])
    bad[0, 0] = 255  # allowed in the invalid folder only
    Image.fromarray(bad).save(submission / "labelTrainIds_invalid" / NAMES[0])
    Image.fromarray(bad).save(submission / "labelTrainIds" / NAMES[1])
    problems = validate_darkzurich_submission(submission, expected_names=NAMES, image_size=SIZE)
    assert problems == [
        f"labelTrainIds/{NAMES[0]}: label values [19] outside 0-18",
        f"labelTrainIds/{NAMES[1]}: label values [255] outside 0-18",
    ]


def test_missing_folder_and_name_consistency_without_a_list(submission):
    for path in (submission / "confidence").iterdir():
        path.unlink()
    (submission / "confidence").rmdir()
    (submission / "labelTrainIds_invalid" / NAMES[1]).unlink()
    problems = validate_darkzurich_submission(submission, image_size=SIZE)
    assert problems == ["confidence/: folder is missing", f"labelTrainIds_invalid/{NAMES[1]}: missing"]


def test_refuses_to_overwrite_unless_forced(tmp_path, predictions):
    out = export_darkzurich(predictions, tmp_path / "o")
    with pytest.raises(InputError, match="force=True"):
        export_darkzurich(predictions, out)
    stale = out / "confidence" / "GOPR0364_frame_000777_rgb_anon.png"
    Image.fromarray(np.zeros(SIZE, np.uint16)).save(stale)
    (out / "README.txt").write_text("kept")
    export_darkzurich(predictions[:1], out, force=True)
    assert not stale.exists()  # submission folders are replaced, not merged
    assert (out / "README.txt").read_text() == "kept"
    assert validate_darkzurich_submission(out, expected_names=NAMES[:1], image_size=SIZE) == []


def test_export_refuses_bad_names_logits_and_duplicates(tmp_path):
    with pytest.raises(InputError, match="<SEQ>_frame_<6 digits>"):
        export_darkzurich([("image_1.png", _probs(0))], tmp_path / "a")
    with pytest.raises(InputError, match="softmax"):
        export_darkzurich([(NAMES[0], 5 * torch.randn(19, *SIZE))], tmp_path / "b")
    with pytest.raises(InputError, match="19 Cityscapes"):
        export_darkzurich([(NAMES[0], torch.ones(3, *SIZE) / 3)], tmp_path / "c")
    with pytest.raises(InputError, match="two predictions"):
        export_darkzurich([(NAMES[0], _probs(0)), (NAMES[0], _probs(1))], tmp_path / "d")


def test_darkzurich_test_names_lists_the_test_tree(tmp_path):
    for name in NAMES:
        seq = name.split("_")[0]
        path = tmp_path / "rgb_anon" / "test" / "night" / seq / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")
    (tmp_path / "rgb_anon" / "test" / "night" / "GOPR0364" / "thumbs.db").write_bytes(b"")
    assert darkzurich_test_names(tmp_path) == sorted(NAMES)
    with pytest.raises(DataError, match="rgb_anon/test/night"):
        darkzurich_test_names(tmp_path / "elsewhere")


def test_zip_holds_the_three_folders_at_top_level(submission):
    archive = zip_submission(submission)
    with zipfile.ZipFile(archive) as zf:
        top = {n.split("/")[0] for n in zf.namelist()}
        assert top == {"labelTrainIds", "labelTrainIds_invalid", "confidence"}
        assert len(zf.namelist()) == 3 * len(NAMES)


def test_acdc_export_writes_full_resolution_train_ids(tmp_path):
    names = ["GOPR0351_frame_000159_rgb_anon.png", "GOPR0376_frame_000851_rgb_anon.png"]
    label_map = torch.randint(0, 19, SIZE)
    out = export_acdc([(names[0], _probs(3)), (names[1], label_map)], tmp_path / "acdc")
    assert validate_acdc_submission(out, expected_names=names, image_size=SIZE) == []
    first = Image.open(out / "labelTrainIds" / names[0])
    assert first.mode == "L" and first.size == (SIZE[1], SIZE[0])
    np.testing.assert_array_equal(np.array(first), _probs(3).argmax(0).numpy())
    np.testing.assert_array_equal(np.array(Image.open(out / "labelTrainIds" / names[1])), label_map.numpy())
    with pytest.raises(InputError, match="not empty"):
        export_acdc([(names[0], label_map)], out)
