"""One training entry point for one CPU, one GPU or many GPUs (`torchrun`; docs/TRAINING.md,
"Several GPUs")."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from ccdistill.errors import InputError


@dataclass(frozen=True)
class DistributedContext:
    """Where this process sits among the ranks of a training (`init_distributed` makes it), and
    the collectives every rank joins; each is a no-op in a single process."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    def barrier(self) -> None:
        """Wait for every rank (nothing to wait for in a single process)."""
        if self.enabled:
            dist.barrier()

    def all_true(self, flag: bool) -> bool:
        """True only if `flag` holds on every rank (so all ranks stop together)."""
        if not self.enabled:
            return flag
        value = torch.tensor([1 if flag else 0], device=self.device)
        dist.all_reduce(value, op=dist.ReduceOp.MIN)
        return bool(value.item())

    def average_buffers(self, module: torch.nn.Module) -> None:
        """Average floating-point buffers (BatchNorm running statistics) across ranks.

        DDP keeps parameters identical but each rank updates its running statistics from its own
        batches; averaging before a checkpoint or an evaluation makes every rank hold the same model
        and uses the statistics of all ranks' data rather than rank 0's alone."""
        if not self.enabled:
            return
        for buffer in module.buffers():
            if buffer.is_floating_point():
                dist.all_reduce(buffer, op=dist.ReduceOp.SUM)
                buffer.div_(self.world_size)

    def shutdown(self) -> None:
        """End the process group this context started (a no-op for a single process)."""
        if self.enabled and dist.is_initialized():
            dist.destroy_process_group()


def resolve_device(name: str = "auto", local_rank: int = 0) -> torch.device:
    """'auto' | 'cpu' | 'cuda' | 'cuda:N' | 'mps' -> a torch.device that exists on this machine.

    InputError for a name torch does not know and for a device this machine lacks, rather than
    a failure later (torch.load on a missing GPU reads like a truncated checkpoint)."""
    if name == "auto":
        return torch.device(f"cuda:{local_rank}") if torch.cuda.is_available() else torch.device("cpu")
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError):
        raise InputError(f"device {name!r} is not a device; expected auto, cpu, cuda, cuda:N or mps") from None
    if device.type == "cuda":
        if device.index is None:
            device = torch.device(f"cuda:{local_rank}")
        if not torch.cuda.is_available():
            raise InputError(
                f"device {name!r} asks for a CUDA GPU, but torch sees none (torch.cuda.is_available() is False); "
                "use device cpu or auto, or install a CUDA build of torch on a machine with a GPU"
            )
        if device.index >= torch.cuda.device_count():
            raise InputError(
                f"device {name!r}: this machine has {torch.cuda.device_count()} CUDA GPU(s), numbered from 0"
            )
    elif device.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise InputError(f"device {name!r}: Apple MPS is not available here; use device cpu or auto")
    return device


def init_distributed(device: str = "auto") -> DistributedContext:
    """Read torchrun's environment; start a process group when there is more than one rank.

    gloo on CPU, nccl on CUDA. A single process needs no process group at all.
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    resolved = resolve_device(device, local_rank)
    if resolved.type == "cuda":
        torch.cuda.set_device(resolved)
    if world_size > 1 and not dist.is_initialized():
        dist.init_process_group(backend="nccl" if resolved.type == "cuda" else "gloo")
    return DistributedContext(rank, world_size, local_rank, resolved)
