"""What an export folder holds, and the names and metadata it uses. Imports no torch.

    DIR/export.json                    the settings (a re-run with other settings is refused)
    DIR/shards/r{rank}-{n}.safetensors  int8 latents, one tensor per clip, (chunks, 2, 8, h, w)
    DIR/index.jsonl                    one JSON record per clip (and per failed video)
    DIR/stats.json                     per-channel mean and std of z_c and z_m

Every shard is self-describing: its safetensors metadata holds the model, the records of
its clips and failures, the integer sums of its latents, and the point in its rank's share
of the videos where the next shard starts. The index and the statistics are derived from
the shards alone, so a re-run after an interruption rebuilds them exactly.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path

FORMAT = "regen-latents"        # `format` in the metadata of shards and latent files
FORMAT_VERSION = "1"
SETTINGS = "export.json"
INDEX = "index.jsonl"
STATS = "stats.json"
SHARDS = "shards"


def shard_name(rank: int, number: int) -> str:
    """The file name of a rank's shard `number`, under DIR/shards/."""
    return f"r{rank:04d}-{number:06d}.safetensors"


def clip_key(file: int, start: int) -> str:
    """The tensor name of a clip: its video's number in the sorted source list and its first frame."""
    return f"{file:06d}-{start:08d}"


def sources_digest(sources: list[Path]) -> str:
    return hashlib.sha256("\n".join(map(str, sources)).encode()).hexdigest()


@dataclass(frozen=True)
class ExportSettings:
    """Everything that decides an export's bytes; a re-run must have the same."""

    model: str              # model name (bundled name, or the model file's name)
    model_sha256: str       # SHA-256 of the model file
    ratio: int              # k: chunks of k+1 frames
    clip_frames: int        # frames per clip (0: each video is one clip)
    max_side: int           # long side cap in pixels (0: full size)
    shard_bytes: int        # latent bytes per shard, at most (a larger single clip gets its own shard)
    world: int              # ranks the videos were shared among
    sources: int            # number of videos
    sources_sha256: str     # digest of the sorted list of their paths
    format: str = FORMAT
    format_version: str = FORMAT_VERSION

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> "ExportSettings":
        data = json.loads(text)
        return cls(**{f.name: data[f.name] for f in fields(cls)})

    def differences(self, other: "ExportSettings") -> list[str]:
        return [f.name for f in fields(self) if getattr(self, f.name) != getattr(other, f.name)]


def encode_meta(values: dict) -> dict[str, str]:
    """A dict of JSON-able values -> safetensors metadata (str -> str; strings kept as they are)."""
    return {k: v if isinstance(v, str) else json.dumps(v, sort_keys=True, separators=(",", ":"))
            for k, v in values.items()}


def decode_meta(metadata: dict[str, str], names: tuple[str, ...]) -> dict:
    """The JSON values of `names` in safetensors metadata (missing names are left out)."""
    return {k: json.loads(metadata[k]) for k in names if k in metadata}
