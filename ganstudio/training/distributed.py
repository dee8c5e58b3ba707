"""torch.distributed as the trainer uses it: launched by torchrun (RANK, WORLD_SIZE,
LOCAL_RANK in the environment), NCCL on GPUs and gloo on CPUs.

There is no DistributedDataParallel wrapper: GAN phases call methods other than forward
(mapping, synthesis, heads, features) and toggle which networks need gradients, which DDP's
forward hooks do not follow. Instead every process starts from rank 0's weights and, after
each backward, gradients are averaged in one flat all-reduce (the loss rides along, so all
processes agree whether a step was finite). Same result, fewer surprises.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Iterable

import torch
import torch.distributed as dist
from torch import nn


@dataclass(frozen=True)
class DistInfo:
    rank: int
    world: int
    local_rank: int
    device: torch.device

    @property
    def main(self) -> bool:
        """Only the main process logs, shows progress and writes files."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world > 1


def pick_device(device: str = "auto", local_rank: int = 0) -> torch.device:
    if device == "auto":
        return torch.device("cuda", local_rank) if torch.cuda.is_available() else torch.device("cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and dev.index is None:
        dev = torch.device("cuda", local_rank)
    return dev


def init_from_env(device: str = "auto") -> DistInfo:
    """Join the process group torchrun describes, or run alone when WORLD_SIZE is unset or 1."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    dev = pick_device(device, local_rank)
    if world > 1 and not dist.is_initialized():
        if dev.type == "cuda":
            torch.cuda.set_device(dev)
        dist.init_process_group("nccl" if dev.type == "cuda" else "gloo", rank=rank, world_size=world)
    return DistInfo(rank, world, local_rank, dev)


def shutdown() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def _active() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


@torch.no_grad()
def broadcast_module(module: nn.Module) -> None:
    """Make every process hold rank 0's parameters and buffers."""
    if not _active():
        return
    for tensor in list(module.parameters()) + list(module.buffers()):
        dist.broadcast(tensor.data, src=0)


@torch.no_grad()
def reduce_gradients(params: Iterable[nn.Parameter], loss: torch.Tensor) -> bool:
    """Average gradients over processes; True when the (averaged) loss and every gradient
    are finite, the same answer on every process."""
    grads = [p.grad for p in params if p.grad is not None]
    if not _active():  # alone: one fused norm says whether any gradient is inf or nan
        return bool(torch.isfinite(loss.detach()) & torch.isfinite(nn.utils.get_total_norm(grads)))
    flat = torch.cat([g.flatten() for g in grads] + [loss.detach().float().flatten()])
    dist.all_reduce(flat)
    flat /= dist.get_world_size()
    offset = 0
    for g in grads:
        g.copy_(flat[offset:offset + g.numel()].view_as(g))
        offset += g.numel()
    return bool(torch.isfinite(flat).all())


@torch.no_grad()
def all_mean(tensor: torch.Tensor) -> torch.Tensor:
    if not _active():
        return tensor
    tensor = tensor.clone()
    dist.all_reduce(tensor)
    return tensor / dist.get_world_size()


def any_true(flag: bool, device: torch.device) -> bool:
    """True on every process if it is true on any (e.g. one of them got SIGTERM)."""
    if not _active():
        return flag
    t = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item() > 0)


def gather_bytes(data: bytes, device: torch.device) -> list[bytes]:
    """Every process's bytes, in rank order (used to save every process's RNG state)."""
    if not _active():
        return [data]
    world = dist.get_world_size()
    size = torch.tensor([len(data)], device=device, dtype=torch.int64)
    sizes = [torch.zeros_like(size) for _ in range(world)]
    dist.all_gather(sizes, size)
    longest = int(max(s.item() for s in sizes))
    buf = torch.zeros(longest, dtype=torch.uint8, device=device)
    buf[: len(data)] = torch.frombuffer(bytearray(data), dtype=torch.uint8).to(device) if data else buf[:0]
    bufs = [torch.zeros_like(buf) for _ in range(world)]
    dist.all_gather(bufs, buf)
    return [b[: int(s.item())].cpu().numpy().tobytes() for b, s in zip(bufs, sizes)]


def broadcast_str(text: str, device: torch.device) -> str:
    """Rank 0's string on every process (the run folder rank 0 created)."""
    if not _active():
        return text
    return gather_bytes(text.encode() if dist.get_rank() == 0 else b"", device)[0].decode()


def barrier() -> None:
    if _active():
        dist.barrier()
