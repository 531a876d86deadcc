"""The process group: one process, or one rank of a torchrun job (NCCL on GPUs, gloo on CPUs)."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.distributed as dist
from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

from models import Model


@dataclass
class Dist:
    rank: int = 0
    world: int = 1
    device: torch.device = torch.device("cpu")

    @property
    def main(self) -> bool:
        return self.rank == 0


def setup_distributed() -> Dist:
    """From torchrun's environment (WORLD_SIZE, LOCAL_RANK); a single process without it."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    cuda = torch.cuda.is_available()
    if world == 1:
        return Dist(device=torch.device("cuda" if cuda else "cpu"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if cuda:
        torch.cuda.set_device(local)
    dist.init_process_group("nccl" if cuda else "gloo")
    return Dist(dist.get_rank(), dist.get_world_size(), torch.device(f"cuda:{local}" if cuda else "cpu"))


def broadcast_flag(flag: bool, env: Dist) -> bool:
    """Rank 0's value of `flag` on every rank."""
    value = torch.tensor([float(flag)], device=env.device)
    if env.world > 1:
        dist.broadcast(value, src=0)
    return bool(value.item())


def write_rank_summary(out: Path, env: Dist, model: Model, data_digest: str) -> None:
    """`rank-R.json`: digests of this rank's weights and of the data it drew, to check that
    replicas stay in sync and ranks see different data."""
    weights = hashlib.sha256()
    state = get_model_state_dict(model, options=StateDictOptions(full_state_dict=True))  # on every rank
    for name in sorted(state):
        weights.update(name.encode())
        weights.update(state[name].float().cpu().numpy().tobytes())
    out.mkdir(parents=True, exist_ok=True)
    (out / f"rank-{env.rank}.json").write_text(json.dumps(
        {"rank": env.rank, "world": env.world, "weights_sha256": weights.hexdigest(), "data_sha256": data_digest}))
