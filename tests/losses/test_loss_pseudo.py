"""Pseudo-label rules, the misalignment-tolerant loss and the segmentation loss."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from ccdistill.labels import DYNAMIC_CLASSES, NUM_CLASSES, STATIC_CLASSES
from ccdistill.errors import InputError
from ccdistill.losses import pseudo_labels, segmentation_loss, tolerant_pseudo_loss

IGNORE = 255


def confident_logits(label: torch.Tensor, margin: float = 10.0) -> torch.Tensor:
    """N×K×H×W logits whose argmax is `label` (N×H×W) with the given margin."""
    return margin * F.one_hot(label, NUM_CLASSES).permute(0, 3, 1, 2).float()


def test_static_rule_ignores_every_dynamic_pixel_and_keeps_static_ones():
    label = torch.randint(0, NUM_CLASSES, (2, 8, 9))
    pseudo = pseudo_labels(confident_logits(label))
    assert pseudo.dtype == torch.long and pseudo.shape == label.shape
    dynamic = torch.isin(label, torch.tensor(DYNAMIC_CLASSES))
    assert dynamic.any() and (~dynamic).any()
    assert (pseudo[dynamic] == IGNORE).all()
    assert torch.equal(pseudo[~dynamic], label[~dynamic])


def test_static_rule_on_random_logits_is_the_masked_argmax():
    logits = torch.randn(2, NUM_CLASSES, 6, 6)
    pseudo = pseudo_labels(logits)
    argmax = logits.argmax(1)
    kept = pseudo != IGNORE
    assert torch.equal(pseudo[kept], argmax[kept])
    assert torch.isin(pseudo[kept], torch.tensor(STATIC_CLASSES)).all()
    assert torch.isin(argmax[~kept], torch.tensor(DYNAMIC_CLASSES)).all()


def test_confidence_rule_also_ignores_unconfident_pixels():
    label = torch.zeros(1, 2, 2, dtype=torch.long)  # road everywhere
    logits = confident_logits(label)
    logits[0, :, 0, 0] = 0.0  # uniform: confidence 1/19
    logits[0, 13, 1, 1] = 20.0  # a confident car
    pseudo = pseudo_labels(logits, "confidence", confidence_threshold=0.9)
    assert pseudo.tolist() == [[[IGNORE, 0], [0, IGNORE]]]
    assert pseudo_labels(logits, "static")[0, 0, 0].item() == 0  # static keeps it


def test_fusion_follows_day_where_confident_and_night_elsewhere():
    day = torch.zeros(1, NUM_CLASSES, 1, 2)
    day[0, 2, 0, 0] = 10.0  # confident building
    day[0, 2, 0, 1], day[0, 8, 0, 1] = 1.0, 0.9  # unsure building / vegetation
    night = torch.zeros(1, NUM_CLASSES, 1, 2)
    night[0, 10, :, :] = 5.0  # night says sky everywhere
    pseudo = pseudo_labels(day, "fusion", logits_Tn=night)
    assert pseudo.tolist() == [[[2, 10]]]


def test_fusion_needs_night_logits():
    with pytest.raises(InputError, match="logits_Tn"):
        pseudo_labels(torch.randn(1, NUM_CLASSES, 2, 2), "fusion")


def test_pseudo_labels_are_detached_and_options_checked():
    logits = torch.randn(1, NUM_CLASSES, 3, 3, requires_grad=True)
    assert not pseudo_labels(logits).requires_grad
    with pytest.raises(InputError, match="rule.*'static', 'confidence', 'fusion'"):
        pseudo_labels(logits, "dannet")
    with pytest.raises(InputError, match="confidence_threshold"):
        pseudo_labels(logits, "confidence", confidence_threshold=1.5)


def test_tolerant_loss_at_most_cross_entropy():
    logits = torch.randn(2, NUM_CLASSES, 10, 10)
    pseudo = pseudo_labels(torch.randn(2, NUM_CLASSES, 10, 10))
    tolerant = tolerant_pseudo_loss(logits, pseudo)
    plain = segmentation_loss(logits, pseudo)
    assert tolerant.item() <= plain.item() + 1e-6
    assert tolerant.item() < plain.item()  # random labels: most windows hold several classes


def test_tolerant_loss_equals_cross_entropy_when_windows_hold_one_class():
    # Class 0 on the left, class 2 on the right, two ignored columns between them: no 3×3
    # window sees two classes.
    pseudo = torch.full((2, 6, 8), IGNORE)
    pseudo[:, :, :3] = 0
    pseudo[:, :, 5:] = 2
    logits = torch.randn(2, NUM_CLASSES, 6, 8)
    torch.testing.assert_close(tolerant_pseudo_loss(logits, pseudo),
                               segmentation_loss(logits, pseudo))
    constant = torch.full((2, 6, 8), 3)
    torch.testing.assert_close(tolerant_pseudo_loss(logits, constant),
                               segmentation_loss(logits, constant))


def test_window_one_is_cross_entropy():
    logits = torch.randn(1, NUM_CLASSES, 5, 5)
    pseudo = torch.randint(0, 11, (1, 5, 5))
    torch.testing.assert_close(tolerant_pseudo_loss(logits, pseudo, window=1),
                               segmentation_loss(logits, pseudo))


def test_shift_by_one_costs_less_under_the_tolerant_loss():
    truth = torch.zeros(1, 12, 12, dtype=torch.long)
    truth[:, :, 4:8] = 2
    truth[:, 6:, :] = 8
    logits = confident_logits(truth)  # the night prediction is right
    shifted = truth.roll(1, dims=2)  # the pseudo label is off by one pixel
    tolerant = tolerant_pseudo_loss(logits, shifted)
    plain = segmentation_loss(logits, shifted)
    assert tolerant.item() < 0.1 * plain.item()


def test_tolerant_loss_all_ignored_is_zero_with_gradient():
    logits = torch.randn(1, NUM_CLASSES, 4, 4, requires_grad=True)
    loss = tolerant_pseudo_loss(logits, torch.full((1, 4, 4), IGNORE))
    assert loss.item() == 0.0
    loss.backward()
    assert torch.isfinite(logits.grad).all() and (logits.grad == 0).all()


def test_tolerant_loss_gradient_finite_next_to_ignored_regions():
    logits = torch.randn(1, NUM_CLASSES, 6, 6, requires_grad=True)
    pseudo = torch.full((1, 6, 6), IGNORE)
    pseudo[0, 2:4, 2:4] = 1
    tolerant_pseudo_loss(logits, pseudo).backward()
    assert torch.isfinite(logits.grad).all() and logits.grad.abs().sum() > 0


def test_tolerant_loss_checks_window_and_shapes():
    logits = torch.randn(1, NUM_CLASSES, 4, 4)
    with pytest.raises(InputError, match="window"):
        tolerant_pseudo_loss(logits, torch.zeros(1, 4, 4, dtype=torch.long), window=2)
    with pytest.raises(InputError, match="pseudo"):
        tolerant_pseudo_loss(logits, torch.zeros(2, 4, 4, dtype=torch.long))


def test_segmentation_loss_is_cross_entropy_and_upsamples_logits():
    logits = torch.randn(2, 5, 4, 4)
    label = torch.randint(0, 5, (2, 8, 8))
    label[0, 0, :3] = IGNORE
    up = F.interpolate(logits, size=(8, 8), mode="bilinear", align_corners=False)
    expected = F.cross_entropy(up, label, ignore_index=IGNORE)
    torch.testing.assert_close(segmentation_loss(logits, label), expected)


def test_segmentation_loss_all_ignored_is_zero_not_nan():
    logits = torch.randn(1, 5, 4, 4, requires_grad=True)
    loss = segmentation_loss(logits, torch.full((1, 4, 4), IGNORE))
    assert loss.item() == 0.0
    loss.backward()
    assert torch.isfinite(logits.grad).all()


def test_segmentation_loss_rejects_bad_labels():
    logits = torch.randn(1, 5, 4, 4)
    with pytest.raises(InputError, match="class id 7"):
        segmentation_loss(logits, torch.full((1, 4, 4), 7))
    with pytest.raises(InputError, match="label must hold integer"):
        segmentation_loss(logits, torch.zeros(1, 4, 4))
    with pytest.raises(InputError, match="label has batch 2"):
        segmentation_loss(logits, torch.zeros(2, 4, 4, dtype=torch.long))
