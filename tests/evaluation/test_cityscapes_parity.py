"""Parity with the official Cityscapes pixel-level evaluation (cityscapesscripts).

Both sides read the same labelIds PNGs. The ground truth contains void labelIds that are not
trainIds (0 unlabeled, 1 ego vehicle, 4 static, 6 ground, 9 parking); the predictions contain
classes absent from the ground truth (pole, bicycle: IoU 0), miss a ground-truth class
(building: IoU 0), and leave most classes absent from both (NaN, excluded from the mean).
"""

from __future__ import annotations

import copy
import importlib
import math
from pathlib import Path

import numpy as np
from PIL import Image

from ccdistill.labels import (
    CLASS_NAMES,
    NUM_CLASSES,
    TRAIN_ID_TO_LABEL_ID,
    label_ids_to_train_ids,
    train_ids_to_label_ids,
)
from ccdistill.evaluation import ConfusionMatrix

FRAMES = [("frankfurt", "000000", "000294"), ("lindau", "000001", "000019"), ("munster", "000042", "000007")]
GT_TRAIN_IDS = [0, 1, 2, 8, 10, 11, 13]  # road sidewalk building vegetation sky person car
PRED_TRAIN_IDS = [0, 1, 5, 8, 10, 11, 13, 18]  # no building; pole and bicycle never in gt
VOID_LABEL_IDS = [0, 1, 4, 6, 9]
HEIGHT, WIDTH = 24, 32


def _write_pair(rng: np.random.Generator, gt_dir: Path, pred_dir: Path, frame: tuple[str, str, str]):
    city, seq, num = frame
    gt_train = rng.choice(GT_TRAIN_IDS, size=(HEIGHT, WIDTH))
    gt_label = train_ids_to_label_ids(gt_train)
    void = rng.random((HEIGHT, WIDTH)) < 0.15
    gt_label[void] = rng.choice(VOID_LABEL_IDS, size=int(void.sum()))
    # Mostly right, otherwise a random class from the prediction pool; building (2) is never
    # predicted, and void pixels get ordinary predictions (which must not count as FP).
    pred_train = rng.choice(PRED_TRAIN_IDS, size=(HEIGHT, WIDTH))
    copy_gt = (rng.random((HEIGHT, WIDTH)) < 0.6) & (gt_train != 2) & ~void
    pred_train[copy_gt] = gt_train[copy_gt]
    gt_path = gt_dir / city / f"{city}_{seq}_{num}_gtFine_labelIds.png"
    gt_path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(gt_label.astype(np.uint8)).save(gt_path)
    # Named the way the script's getPrediction() finds it: "<city>_<seq>_<frame>*.png".
    pred_path = pred_dir / f"{city}_{seq}_{num}_leftImg8bit.png"
    Image.fromarray(train_ids_to_label_ids(pred_train)).save(pred_path)
    return gt_path


def _official(tmp_path: Path, monkeypatch, gt_paths: list[Path], pred_dir: Path) -> dict:
    # Point every location the script may derive from the environment into tmp_path.
    export_dir = tmp_path / "official_export"
    export_dir.mkdir()
    monkeypatch.setenv("CITYSCAPES_DATASET", str(tmp_path))
    monkeypatch.setenv("CITYSCAPES_RESULTS", str(pred_dir))
    monkeypatch.setenv("CITYSCAPES_EXPORT_DIR", str(export_dir))
    module = importlib.import_module("cityscapesscripts.evaluation.evalPixelLevelSemanticLabeling")
    args = copy.copy(module.args)  # never mutate the module's global settings
    args.evalInstLevelScore = False
    args.evalPixelAccuracy = False
    args.JSONOutput = False
    args.quiet = True
    args.colorized = False
    args.bold = args.nocol = ""
    args.exportFile = str(export_dir / "resultPixelLevelSemanticLabeling.json")
    args.predictionPath = str(pred_dir)
    args.predictionWalk = None
    predictions = [module.getPrediction(args, str(gt)) for gt in gt_paths]
    result = module.evaluateImgLists(predictions, [str(gt) for gt in gt_paths], args)
    assert not any(export_dir.iterdir()), "the official script wrote a result file"
    return result


def test_iou_matches_official_cityscapes_evaluation(tmp_path, monkeypatch):
    rng = np.random.default_rng(2022)
    gt_dir, pred_dir = tmp_path / "gtFine" / "val", tmp_path / "results"
    pred_dir.mkdir(parents=True)
    gt_paths = [_write_pair(rng, gt_dir, pred_dir, frame) for frame in FRAMES]

    official = _official(tmp_path, monkeypatch, gt_paths, pred_dir)

    cm = ConfusionMatrix()
    for gt_path in gt_paths:
        city, seq, num = gt_path.name.split("_")[:3]
        pred_path = pred_dir / f"{city}_{seq}_{num}_leftImg8bit.png"
        gt = label_ids_to_train_ids(np.array(Image.open(gt_path)))
        pred = label_ids_to_train_ids(np.array(Image.open(pred_path)))
        cm.update(pred, gt)
    ours = cm.compute()

    from cityscapesscripts.helpers.labels import trainId2label

    official_iou = np.array([official["classScores"][trainId2label[t].name] for t in range(NUM_CLASSES)])
    assert [trainId2label[t].name for t in range(NUM_CLASSES)] == list(CLASS_NAMES)
    # The same classes are NaN on both sides, and the case is not degenerate.
    np.testing.assert_array_equal(np.isnan(ours["per_class_iou"]), np.isnan(official_iou))
    absent = set(range(NUM_CLASSES)) - set(GT_TRAIN_IDS) - set(PRED_TRAIN_IDS)
    assert set(np.flatnonzero(np.isnan(official_iou))) == absent
    for zero_class in (2, 5, 18):  # missed gt class, and two predicted-but-absent classes
        assert official_iou[zero_class] == 0.0
    finite = ~np.isnan(official_iou)
    np.testing.assert_allclose(ours["per_class_iou"][finite], official_iou[finite], rtol=0, atol=1e-6)
    assert math.isclose(ours["miou"], official["averageScoreClasses"], abs_tol=1e-6)
    # The official matrix is over labelIds; restricted to the 19 evaluated ids it is ours.
    official_conf = np.array(official["confMatrix"], dtype=np.int64)
    ids = list(TRAIN_ID_TO_LABEL_ID)
    np.testing.assert_array_equal(official_conf[np.ix_(ids, ids)], ours["confusion"])
    # Void ground truth is present in the official matrix but not in ours.
    assert official_conf[VOID_LABEL_IDS].sum() > 0
    assert ours["num_pixels"] == official_conf[np.ix_(ids, range(official_conf.shape[1]))].sum()
