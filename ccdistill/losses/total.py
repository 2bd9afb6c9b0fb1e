"""The CCDistill training objective (docs/METHOD.md, section 7):

    L = λ_seg_d·L_seg(P_Sd) + λ_seg_n·L_seg(P_Sn) + λ_pseudo·L_pseudo(P_Tn)
        + r(t)·(λ_cdc·L_CDC + λ_js·L_JS + λ_cds·L_CDS) [+ λ_oracle·L_seg(P_Tn, y_Tn)]

with r(t) the linear warm-up of the distillation weights. A weight of 0 switches its term off,
which is how the baselines are built (docs/METHOD.md lists them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from torch import Tensor

from ccdistill.errors import InputError
from ccdistill.labels import IGNORE_INDEX
from ccdistill.losses._checks import (
    DISTANCES,
    GRANULARITIES,
    PAIRS,
    check_choice,
    check_positive_int,
    check_unit_interval,
)
from ccdistill.losses.content import cdc_loss
from ccdistill.losses.js import JS_TAU, js_loss
from ccdistill.losses.pseudo import PSEUDO_RULES, pseudo_labels, tolerant_pseudo_loss
from ccdistill.losses.segmentation import segmentation_loss
from ccdistill.losses.style import STYLE_MODES, cds_loss
from ccdistill.streams import EMBEDDING_TERMS, TERM_STREAMS

# The terms that go through the warm-up ramp: they read correlations of a fresh projection
# head (CDC, JS) or of features not yet shaped by the segmentation loss (CDS).
DISTILLATION_TERMS = ("cdc", "js", "cds")
TERMS = tuple(TERM_STREAMS)  # seg_day, seg_night, pseudo, oracle, cdc, js, cds


@dataclass
class LossWeights:
    """λ of each term of the total loss; 0 switches a term off (and it is not computed).

    seg_day: L_seg on P_Sd (Cityscapes labels). seg_night: L_seg on P_Sn (same labels).
    pseudo: L_pseudo on P_Tn. cdc, js, cds: the distillation terms (warmed up).
    oracle: cross-entropy on P_Tn with real target-night labels (upper bound only).
    warmup_fraction: share of the iterations over which the distillation weights ramp 0 → 1.
    pseudo_warmup_fraction: the same ramp for λ_pseudo (0: none). Pseudo labels come from
        M_d's day prediction; a ramp lets a segmenter that has never seen the source learn
        it before its pseudo labels count (the alternative is a source-only first stage,
        `model.init_checkpoint`; docs/TRAINING.md).
    """

    seg_day: float = 1.0
    seg_night: float = 1.0
    pseudo: float = 1.0
    cdc: float = 1.0
    js: float = 0.1
    cds: float = 1.0
    oracle: float = 0.0
    warmup_fraction: float = 0.1
    pseudo_warmup_fraction: float = 0.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise InputError(f"LossWeights.{f.name} must be a number ≥ 0; got {value!r}")
        check_unit_interval("LossWeights.warmup_fraction", self.warmup_fraction)
        check_unit_interval("LossWeights.pseudo_warmup_fraction", self.pseudo_warmup_fraction)

    def ramp(self, term: str, iteration: int, max_iterations: int) -> float:
        """The factor r(t) that multiplies λ_term at `iteration` (1 for un-ramped terms)."""
        if term in DISTILLATION_TERMS:
            return distillation_ramp(iteration, max_iterations, self.warmup_fraction)
        if term == "pseudo":
            return distillation_ramp(iteration, max_iterations, self.pseudo_warmup_fraction)
        return 1.0


@dataclass
class LossOptions:
    """The inferred choices of the losses (docs/METHOD.md, section 10); each field maps to a loss argument.

    granularity, grid, distance, symmetric, illumination_pairs: `cdc_loss`.
    tau: `js_loss`. style_mode, gram_center (and distance, symmetric, illumination_pairs):
    `cds_loss`. pseudo_rule, confidence_threshold: `pseudo_labels`. pseudo_tolerant: use
    `tolerant_pseudo_loss` (3×3) instead of plain cross-entropy on the pseudo labels.
    """

    granularity: str = "image"
    grid: int = 8
    distance: str = "l1"
    symmetric: bool = False
    tau: float = JS_TAU
    style_mode: str = "cosine"
    gram_center: bool = False
    pseudo_rule: str = "static"
    pseudo_tolerant: bool = False
    confidence_threshold: float = 0.9
    illumination_pairs: str = "aligned"

    def __post_init__(self) -> None:
        check_choice("LossOptions.granularity", self.granularity, GRANULARITIES)
        check_positive_int("LossOptions.grid", self.grid)
        check_choice("LossOptions.distance", self.distance, DISTANCES)
        check_choice("LossOptions.style_mode", self.style_mode, STYLE_MODES)
        check_choice("LossOptions.pseudo_rule", self.pseudo_rule, PSEUDO_RULES)
        check_choice("LossOptions.illumination_pairs", self.illumination_pairs, PAIRS)
        if not float(self.tau) > 0:
            raise InputError(f"LossOptions.tau must be > 0; got {self.tau!r}")
        check_unit_interval("LossOptions.confidence_threshold", self.confidence_threshold)


def distillation_ramp(
    iteration: int, max_iterations: int, warmup_fraction: float = 0.1
) -> float:
    """r(t): 0 at iteration 0, rising linearly to 1 at warmup_fraction·max_iterations, then 1.

    Args:
        iteration: the current iteration t ≥ 0 (0-based).
        max_iterations: the total number of iterations ≥ 1.
        warmup_fraction: the warm-up's share of the run in [0, 1]; 0 disables it.
    """
    if isinstance(iteration, bool) or not isinstance(iteration, int) or iteration < 0:
        raise InputError(f"iteration must be an int ≥ 0; got {iteration!r}")
    check_positive_int("max_iterations", max_iterations)
    check_unit_interval("warmup_fraction", warmup_fraction)
    warmup = warmup_fraction * max_iterations
    if warmup <= 0:
        return 1.0
    return min(1.0, iteration / warmup)


def _logits(outputs: Mapping[str, Any], stream: str) -> Tensor:
    out = outputs[stream]
    return out.logits if hasattr(out, "logits") else out[0]


def _features(outputs: Mapping[str, Any], stream: str) -> Tensor:
    out = outputs[stream]
    return out.features if hasattr(out, "features") else out[1]


def _require(term: str, holder: Mapping[str, Any] | None, holder_name: str,
             streams: tuple[str, ...]) -> None:
    """Raise naming `term` and the first missing stream if `holder` lacks one."""
    have = sorted(holder) if holder is not None else []
    for stream in streams:
        if holder is None or stream not in holder:
            raise InputError(
                f"the {term!r} term needs stream {stream!r} in {holder_name}, which holds "
                f"{have if holder is not None else 'nothing (None)'}; pass it or set "
                f"LossWeights.{term} = 0"
            )


def ccdistill_loss(
    outputs: Mapping[str, Any],
    embeddings: Mapping[str, Tensor] | None,
    label_S: Tensor,
    weights: LossWeights,
    options: LossOptions | None = None,
    iteration: int = 0,
    max_iterations: int = 1,
    label_Tn: Tensor | None = None,
) -> dict[str, Tensor]:
    """The total CCDistill loss and its terms for one step.

    Args:
        outputs: stream key ("S_d", "S_n", "T_d", "T_n") → the segmenter's output, an object
            with `.logits` (N×K×H×W) and `.features` (N×C×h×w), or a (logits, features)
            tuple. Streams whose terms all have weight 0 may be missing.
        embeddings: stream key → N×D×h×w projection-head embeddings e_x (CDC and JS), or
            None when those terms are off.
        label_S: N×H×W Cityscapes trainIds, shared by S_d and S_n (pixel-aligned).
        weights: the λs (`LossWeights`).
        options: the inferred choices (`LossOptions`); None means the defaults.
        iteration, max_iterations: position in training, for the warm-up ramp.
        label_Tn: N×H×W real target-night labels (the `oracle` term only).

    Returns:
        {term: unweighted value} for each term with a non-zero weight (keys among "seg_day",
        "seg_night", "pseudo", "oracle", "cdc", "js", "cds"), plus "total" =
        Σ λ_term · r_term(t) · term (`LossWeights.ramp`: the warm-ups of cdc, js, cds, pseudo).
    """
    o = LossOptions() if options is None else options
    terms: dict[str, Tensor] = {}

    def need(term: str) -> bool:
        """Whether `term` is on; if so, check that the streams it reads were computed."""
        if getattr(weights, term) == 0:
            return False
        _require(term, outputs, "outputs", TERM_STREAMS[term])
        if term in EMBEDDING_TERMS:
            _require(term, embeddings, "embeddings", TERM_STREAMS[term])
        return True

    if need("seg_day"):
        terms["seg_day"] = segmentation_loss(_logits(outputs, "S_d"), label_S, IGNORE_INDEX)
    if need("seg_night"):
        terms["seg_night"] = segmentation_loss(_logits(outputs, "S_n"), label_S, IGNORE_INDEX)
    if need("pseudo"):
        logits_Tn = _logits(outputs, "T_n")
        pseudo = pseudo_labels(
            _logits(outputs, "T_d"), o.pseudo_rule, logits_Tn, o.confidence_threshold
        )
        terms["pseudo"] = (
            tolerant_pseudo_loss(logits_Tn, pseudo) if o.pseudo_tolerant
            else segmentation_loss(logits_Tn, pseudo)
        )
    if need("oracle"):
        if label_Tn is None:
            raise InputError(
                "the 'oracle' term needs label_Tn (real target-night labels); got None. "
                "Pass it or set LossWeights.oracle = 0"
            )
        terms["oracle"] = segmentation_loss(_logits(outputs, "T_n"), label_Tn, IGNORE_INDEX)
    if need("cdc"):
        e = embeddings
        terms["cdc"] = cdc_loss(
            e["S_d"], e["S_n"], e["T_d"], e["T_n"], o.granularity, o.grid, o.distance,
            o.symmetric, o.illumination_pairs,
        )
    if need("js"):
        e = embeddings
        terms["js"] = js_loss(e["S_d"], e["S_n"], e["T_d"], e["T_n"], o.tau)
    if need("cds"):
        f = {s: _features(outputs, s) for s in TERM_STREAMS["cds"]}
        terms["cds"] = cds_loss(
            f["S_d"], f["S_n"], f["T_d"], f["T_n"], o.style_mode, o.gram_center, o.distance,
            o.symmetric, o.illumination_pairs,
        )

    if not terms:
        raise InputError("every LossWeights term is 0; at least one loss must be switched on")
    total = sum(
        getattr(weights, name) * weights.ramp(name, iteration, max_iterations) * value
        for name, value in terms.items()
    )
    return {**terms, "total": total}
