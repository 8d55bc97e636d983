"""Process-group setup from torchrun's environment, and the one collective the solver needs."""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass
class DistContext:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def init_from_env(device_type: str) -> DistContext:
    """Joins the process group torchrun describes (WORLD_SIZE, RANK, LOCAL_RANK, MASTER_*)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistContext()
    rank = int(os.environ["RANK"])
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device_type == "cuda" else "gloo", rank=rank, world_size=world)
    return DistContext(rank, world, local_rank)


def current_context() -> DistContext:
    """The context of an already initialised group (e.g. one set up by a test harness)."""
    if dist.is_available() and dist.is_initialized():
        return DistContext(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))
    return DistContext()


def gather_rows(local: torch.Tensor, row_sets: list[torch.Tensor], total_rows: int, ctx: DistContext):
    """Assembles the full factor matrix from each rank's solved rows.

    row_sets[r] lists the rows rank r solved (every rank knows all of them); `local` holds this rank's
    solutions in that order. Shards are padded to one size because all_gather needs equal shapes.
    """
    if not ctx.enabled:
        full = torch.empty(total_rows, local.shape[1], dtype=local.dtype, device=local.device)
        full[row_sets[0].to(local.device)] = local
        return full
    width = max(len(r) for r in row_sets)
    padded = torch.zeros(width, local.shape[1], dtype=local.dtype, device=local.device)
    padded[: local.shape[0]] = local
    shards = [torch.empty_like(padded) for _ in range(ctx.world_size)]
    dist.all_gather(shards, padded)
    full = torch.empty(total_rows, local.shape[1], dtype=local.dtype, device=local.device)
    for rows, shard in zip(row_sets, shards):
        full[rows.to(local.device)] = shard[: len(rows)]
    return full
