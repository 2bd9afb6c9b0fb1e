"""The streams through the networks: which streams a variant needs, and the one module (wrapped
by DDP) that segments them and embeds their features (docs/METHOD.md, sections 1-7)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch
from torch import nn

from ccdistill.config import Config
from ccdistill.models import CCDistillModel, SegmenterOutput, route_streams
from ccdistill.streams import STREAMS, TARGET_STREAMS, needs_embeddings, streams_needed

__all__ = ["StreamPlan", "StreamForward", "stream_images"]


@dataclass(frozen=True)
class StreamPlan:
    """Which streams and embeddings a variant needs (nothing else is computed)."""

    streams: tuple[str, ...]
    embeddings: bool

    @classmethod
    def for_config(cls, config: Config) -> "StreamPlan":
        """The streams the enabled terms read, plus T_d and T_n when `train.forward_target`
        asks for them to be forwarded without a loss (BatchNorm statistics only)."""
        needed = set(streams_needed(config.loss))
        if config.train.forward_target:
            needed |= set(TARGET_STREAMS)
        return cls(tuple(s for s in STREAMS if s in needed), needs_embeddings(config.loss))

    @property
    def uses_every_parameter(self) -> bool:
        """Whether a step reaches every parameter of M_d, M_n and the head (DDP needs to know)."""
        return len(self.streams) == len(STREAMS) and self.embeddings


class StreamForward(nn.Module):
    """Runs each stream through its segmenter (S_d, T_d -> M_d; S_n, T_n -> M_n) and, when the
    CDC/JS terms are on, the shared projection head. Wrapped by DDP as one module."""

    def __init__(self, model: CCDistillModel, plan: StreamPlan, bn_streams: str = "per_stream") -> None:
        super().__init__()
        self.model, self.plan, self.bn_streams = model, plan, bn_streams

    def segment(self, images: dict[str, torch.Tensor]) -> dict[str, SegmenterOutput]:
        """Each stream through its network. bn_streams="joint": the streams of one network
        (S_d with T_d for M_d, S_n with T_n for M_n) share one batch, hence one set of
        BatchNorm statistics, when their sizes match; "per_stream": one call per stream."""
        outputs: dict[str, SegmenterOutput] = {}
        for network, streams in route_streams(self.model, self.plan.streams):
            same_size = len({tuple(images[s].shape[1:]) for s in streams}) == 1
            if self.bn_streams == "joint" and len(streams) > 1 and same_size:
                joint = network(torch.cat([images[s] for s in streams]))
                sizes = [images[s].shape[0] for s in streams]
                for stream, logits, features in zip(streams, joint.logits.split(sizes), joint.features.split(sizes)):
                    outputs[stream] = SegmenterOutput(logits, features)
            else:
                outputs.update({s: network(images[s]) for s in streams})
        return {s: outputs[s] for s in self.plan.streams}

    def forward(self, images: dict[str, torch.Tensor]) -> tuple[dict[str, SegmenterOutput], dict | None]:
        outputs = self.segment(images)
        # One head call for the four streams: shared BatchNorm statistics keep the
        # stream-wide illumination shift that Cor(S_d,S_n) and Cor(T_d,T_n) measure.
        embeddings = (self.model.embed_streams({s: o.features for s, o in outputs.items()})
                      if self.plan.embeddings else None)
        return outputs, embeddings


def stream_images(source: dict, target: dict, streams: Sequence[str] = STREAMS,
                  device: torch.device | str | None = None) -> dict[str, torch.Tensor]:
    """The data pipeline's source and target batches (keyed by the stream symbols) -> the
    images of `streams`, on `device`."""
    available = {**source, **target}
    return {s: available[s].to(device, non_blocking=True) if device else available[s] for s in streams}
