"""The method's stream vocabulary, in one place (docs/METHOD.md, sections 1-7).

Four streams: S_d source day (labelled), S_n the same images translated to night, T_d target
day and T_n target night (paired with T_d, unlabelled). M_d segments the day streams, M_n the
night streams. Each loss term reads a fixed set of streams; a variant needs exactly the streams
of its enabled terms, so the stream plan, the loss combinator and DDP all read `TERM_STREAMS`.
"""

from __future__ import annotations

from typing import Any

STREAMS: tuple[str, ...] = ("S_d", "S_n", "T_d", "T_n")
SOURCE_STREAMS: tuple[str, ...] = ("S_d", "S_n")  # pixel-aligned, share the Cityscapes label
TARGET_STREAMS: tuple[str, ...] = ("T_d", "T_n")  # GPS-paired, coarsely aligned

# Which network segments each stream: "day" = M_d, "night" = M_n (the one deployed).
NETWORK: dict[str, str] = {"S_d": "day", "T_d": "day", "S_n": "night", "T_n": "night"}
DAY_STREAMS = frozenset(s for s, net in NETWORK.items() if net == "day")

# The streams each term of the total loss reads (its logits, features or embeddings; docs/METHOD.md,
# section 7).
TERM_STREAMS: dict[str, tuple[str, ...]] = {
    "seg_day": ("S_d",),
    "seg_night": ("S_n",),
    "pseudo": ("T_d", "T_n"),  # labels from P_Td, loss on P_Tn
    "oracle": ("T_n",),  # real target-night labels (upper bound)
    "cdc": STREAMS,
    "js": STREAMS,
    "cds": STREAMS,
}
# Terms that read projection-head embeddings e_x (CDS reads the raw features F).
EMBEDDING_TERMS: tuple[str, ...] = ("cdc", "js")


def enabled_terms(weights: Any) -> tuple[str, ...]:
    """The terms with a non-zero weight λ (`weights`: a LossWeights or anything with the
    term names as attributes)."""
    return tuple(term for term in TERM_STREAMS if getattr(weights, term) > 0)


def streams_needed(weights: Any) -> tuple[str, ...]:
    """The streams the enabled terms read, in STREAMS order."""
    needed = {s for term in enabled_terms(weights) for s in TERM_STREAMS[term]}
    return tuple(s for s in STREAMS if s in needed)


def needs_embeddings(weights: Any) -> bool:
    """Whether any enabled term reads projection-head embeddings."""
    return any(term in EMBEDDING_TERMS for term in enabled_terms(weights))

