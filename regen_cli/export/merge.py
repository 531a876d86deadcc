"""The index and the statistics of an export, from every rank's shards, through torch.distributed.

Each rank knows its own finished shards; `all_gather_object` (gloo on CPUs, NCCL on GPUs,
across nodes alike) gives every rank all of them, and rank 0 writes `index.jsonl` and
`stats.json` atomically. Both depend only on the shards: records are ordered by video and
first frame, and the statistics come from exact integer sums, so they are the same for
any number of ranks and after any interruption.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch.distributed as dist

from ..io.atomic import atomic_output
from ..train.distributed import Dist
from .layout import INDEX, STATS, ExportSettings
from .shards import ShardInfo
from .stats import LatentSums


def gather(value, env: Dist) -> list:
    """`value` of every rank, in rank order, on every rank."""
    if env.world == 1:
        return [value]
    values = [None] * env.world
    dist.all_gather_object(values, value)
    return values


def index_records(shards: list[ShardInfo]) -> list[dict]:
    """One record per clip (with its shard) and per failed video, by video then first frame;
    a video's failure comes after the clips it gave before failing."""
    records = [{**clip, "shard": s.name} for s in shards for clip in s.clips]
    records += [dict(failure) for s in shards for failure in s.failed]
    return sorted(records, key=lambda r: (r["file"], "error" in r, r.get("start", 0)))


def write_index_and_stats(root: Path, settings: ExportSettings, shards: list[ShardInfo]) -> dict:
    """Writes DIR/index.jsonl and DIR/stats.json from all shards; returns the counts."""
    records = index_records(shards)
    sums = LatentSums()
    for s in shards:
        sums.merge(s.sums)
    clips = [r for r in records if "error" not in r]
    failed = sorted({r["file"] for r in records if "error" in r})
    counts = {"videos": settings.sources, "clips": len(clips), "chunks": sum(r["chunks"] for r in clips),
              "failed": len(failed), "shards": len(shards)}
    with atomic_output(root / INDEX, overwrite=True) as tmp:
        tmp.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in records))
    stats = {"model": settings.model, "model_sha256": settings.model_sha256, "ratio": settings.ratio,
             **{k: counts[k] for k in ("clips", "chunks")}, **sums.stats_json()}
    with atomic_output(root / STATS, overwrite=True) as tmp:
        tmp.write_text(json.dumps(stats, indent=1) + "\n")
    return counts
