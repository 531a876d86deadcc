"""Shards: safetensors files of int8 clip latents, bounded in size, written atomically.

A rank's shards are numbered 0, 1, ... in the order of its share of the videos. A shard is
closed before the clip that would take it past the size bound (a clip larger than the
bound gets a shard of its own); its metadata records its clips, the videos that failed
while it was open, the integer sums of its latents and the cursor (position in the share,
clip index) where the next shard begins. Shard boundaries depend only on the videos and
the settings, so a resumed run writes the same shards as an uninterrupted one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from safetensors import SafetensorError, safe_open
from safetensors.numpy import save

from ..errors import CorruptFile
from ..io.atomic import atomic_output
from .layout import FORMAT, FORMAT_VERSION, SHARDS, decode_meta, encode_meta, shard_name
from .stats import LatentSums

Cursor = tuple[int, int]    # (position in the rank's share of the videos, clip index in that video)


@dataclass(frozen=True)
class ShardInfo:
    """What a finished shard records (its metadata, without the latents)."""

    name: str             # relative to the export folder: shards/r0000-000000.safetensors
    clips: list[dict]     # one record per clip (layout.clip_key names its tensor)
    failed: list[dict]    # videos that failed while the shard was open
    sums: LatentSums
    next: Cursor


def read_shard(root: Path, name: str) -> ShardInfo:
    """The metadata of the finished shard `root/name`."""
    try:
        with safe_open(str(root / name), framework="np") as f:
            metadata = f.metadata() or {}
    except (SafetensorError, OSError) as exc:
        raise CorruptFile(f"{root / name} is not a readable shard: {exc}") from None
    if metadata.get("format") != FORMAT or metadata.get("format_version") != FORMAT_VERSION:
        raise CorruptFile(f"{root / name} is not a regen latent shard of format version {FORMAT_VERSION}")
    meta = decode_meta(metadata, ("clips", "failed", "sums", "next"))
    return ShardInfo(name, meta["clips"], meta["failed"], LatentSums.from_json(meta["sums"]), tuple(meta["next"]))


def finished_shards(root: Path, rank: int) -> list[ShardInfo]:
    """The rank's finished shards, in order; they must be numbered 0..n-1 without a gap."""
    names = sorted(p.name for p in (root / SHARDS).glob(f"r{rank:04d}-*.safetensors"))
    expected = [shard_name(rank, n) for n in range(len(names))]
    if names != expected:
        raise CorruptFile(f"the shards of rank {rank} in {root / SHARDS} are not numbered 0..{len(names) - 1}; "
                          "start the export over in a new folder")
    return [read_shard(root, f"{SHARDS}/{name}") for name in names]


def remove_temporaries(root: Path, rank: int) -> None:
    """Deletes the rank's hidden temporary shard files an interrupted run left behind."""
    for tmp in (root / SHARDS).glob(f".r{rank:04d}-*.safetensors.*.tmp"):
        tmp.unlink(missing_ok=True)


def canonical_safetensors(blob: bytes) -> bytes:
    """The same safetensors file with its JSON header's keys sorted: safetensors writes its
    metadata in hash order, which changes from process to process; this makes a shard's
    bytes depend on its contents only (the data section is unchanged)."""
    size = int.from_bytes(blob[:8], "little")
    header = json.dumps(json.loads(blob[8:8 + size]), sort_keys=True, separators=(",", ":")).encode()
    header += b" " * (-len(header) % 8)     # the data section stays 8-byte aligned
    return len(header).to_bytes(8, "little") + header + blob[8 + size:]


class ShardWriter:
    """Collects clips and writes them as shards of at most `limit` latent bytes."""

    def __init__(self, root: Path, rank: int, number: int, limit: int, header: dict) -> None:
        self.root, self.rank, self.number, self.limit, self.header = root, rank, number, limit, header
        self._reset()
        self.written: list[ShardInfo] = []

    def _reset(self) -> None:
        self.tensors: dict[str, np.ndarray] = {}
        self.clips: list[dict] = []
        self.failed: list[dict] = []
        self.sums = LatentSums()
        self.bytes = 0

    def add(self, key: str, latents: np.ndarray, record: dict, cursor: Cursor) -> None:
        """Adds a clip's int8 latents (chunks, 2, C, h, w); `cursor` is where the clip starts
        (where the next shard begins if this clip does not fit into the open one)."""
        if self.tensors and self.bytes + latents.nbytes > self.limit:
            self.close(cursor)
        self.tensors[key] = np.ascontiguousarray(latents)
        self.clips.append(record)
        self.sums.add(latents)
        self.bytes += latents.nbytes

    def fail(self, record: dict) -> None:
        self.failed.append(record)

    @property
    def empty(self) -> bool:
        return not (self.tensors or self.failed)

    def close(self, cursor: Cursor) -> None:
        """Writes the open shard (atomically: a temporary file renamed into place)."""
        name = f"{SHARDS}/{shard_name(self.rank, self.number)}"
        metadata = encode_meta({**self.header, "format": FORMAT, "format_version": FORMAT_VERSION,
                                "rank": self.rank, "number": self.number, "clips": self.clips,
                                "failed": self.failed, "sums": self.sums.to_json(), "next": list(cursor)})
        with atomic_output(self.root / name, overwrite=False) as tmp:
            tmp.write_bytes(canonical_safetensors(save(self.tensors, metadata=metadata)))
        self.written.append(ShardInfo(name, self.clips, self.failed, self.sums, cursor))
        self.number += 1
        self._reset()
