"""`LatentDataset`: an export folder as a torch Dataset of clips, and `LatentWindows` of it.

Items come from the index (failed videos are skipped); shards are opened on first use in
each process (DataLoader workers included) with safetensors' memory-mapped `safe_open`,
and only the chunks asked for are read. Values are float32: the stored q / 127, or with
`normalize=True` (x - mean) / std per part and channel with the export's `stats.json`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Optional

import torch
from safetensors import safe_open
from torch.utils.data import Dataset

from models.quantize import from_int8

from ..codec.latents import VideoLatents
from ..errors import CorruptFile, InvalidArgument, NotFound
from .latent_file import LatentFile, save_latents
from .layout import INDEX, SETTINGS, STATS, ExportSettings
from .stats import LatentStats


class LatentDataset(Dataset):
    """The clips of an export: item i is a dict with "latents", float32 (chunks, 2, 8, h, w)
    (index 0 of axis 1: z_c, 1: z_m), and the clip's index record: "key", "source", "file",
    "start" (first frame in the source), "frames", "chunks", "fps" (e.g. "30000/1001"),
    "height", "width" (pixels, after --max-side), "shard"."""

    def __init__(self, root: str | os.PathLike, normalize: bool = True) -> None:
        self.root = Path(root)
        for name in (SETTINGS, INDEX, STATS):
            if not (self.root / name).is_file():
                raise NotFound(f"{self.root} is not a finished export (no {name}); run the export to its end")
        self.settings = ExportSettings.from_json((self.root / SETTINGS).read_text())
        self.stats_json = json.loads((self.root / STATS).read_text())
        self.stats = LatentStats.from_json(self.stats_json)
        try:
            records = [json.loads(line) for line in (self.root / INDEX).read_text().splitlines() if line.strip()]
        except json.JSONDecodeError as exc:
            raise CorruptFile(f"{self.root / INDEX} is not valid JSON lines: {exc}") from None
        self.records = [r for r in records if "error" not in r]
        self.failed = [r for r in records if "error" in r]
        self.normalize = normalize
        self.ratio = self.settings.ratio
        self._shards: dict[str, object] = {}
        self._pid = os.getpid()

    def __len__(self) -> int:
        return len(self.records)

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_shards": {}}    # open shards stay in their process

    def _shard(self, name: str):
        if self._pid != os.getpid():                # a forked worker opens its own
            self._shards, self._pid = {}, os.getpid()
        if name not in self._shards:
            self._shards[name] = safe_open(str(self.root / name), framework="pt")
        return self._shards[name]

    def latents(self, index: int, first_chunk: int = 0, chunks: Optional[int] = None) -> torch.Tensor:
        """Chunks [first_chunk, first_chunk + chunks) of clip `index` (all from first_chunk when
        None) -> float32 (chunks, 2, 8, h, w), normalised if the dataset normalises."""
        record = self.records[index]
        end = record["chunks"] if chunks is None else first_chunk + chunks
        if not 0 <= first_chunk < end <= record["chunks"]:
            raise InvalidArgument(f"clip {record['key']} has {record['chunks']} chunks; "
                                  f"asked for [{first_chunk}, {end})")
        values = from_int8(self._shard(record["shard"]).get_slice(record["key"])[first_chunk:end])
        return self.stats.normalize(values) if self.normalize else values

    def __getitem__(self, index: int) -> dict:
        return {"latents": self.latents(index), **self.records[index]}

    def windows(self, length: int, stride: Optional[int] = None) -> "LatentWindows":
        """Every window of `length` consecutive full chunks (stride `stride`, default `length`)."""
        return LatentWindows(self, length, stride or length)

    def file(self, latents: torch.Tensor, normalized: Optional[bool] = None, frames: Optional[int] = None,
             height: Optional[int] = None, width: Optional[int] = None,
             fps: Optional[str | Fraction] = None) -> LatentFile:
        """A generator's (chunks, 2, 8, h, w) latents as a `LatentFile` of this export's model
        (normalised with this export's statistics when `normalized`, default: as the dataset)."""
        normalized = self.normalize if normalized is None else normalized
        return LatentFile(torch.as_tensor(latents).detach().float().cpu(), self.settings.model,
                          self.settings.model_sha256, self.ratio, frames, height, width,
                          None if fps is None else Fraction(fps), self.stats if normalized else None)

    def video_latents(self, latents: torch.Tensor, normalized: Optional[bool] = None,
                      frames: Optional[int] = None, height: Optional[int] = None,
                      width: Optional[int] = None) -> VideoLatents:
        """(chunks, 2, 8, h, w) latents (a generator's, or an item's) -> de-normalised
        `VideoLatents` for `regen_cli.decode` (frames default to every frame of the chunks)."""
        return self.file(latents, normalized, frames, height, width).video_latents(self.ratio)

    def save_latents(self, path: str | os.PathLike, latents: torch.Tensor, normalized: Optional[bool] = None,
                     frames: Optional[int] = None, height: Optional[int] = None, width: Optional[int] = None,
                     fps: Optional[str | Fraction] = None, overwrite: bool = True) -> None:
        """Writes latents as a `.safetensors` file `regen decode` reads: this export's model,
        and its statistics when the values are normalised (default: as the dataset)."""
        normalized = self.normalize if normalized is None else normalized
        save_latents(path, latents, model=self.settings.model, model_sha256=self.settings.model_sha256,
                     ratio=self.ratio, frames=frames, height=height, width=width, fps=fps,
                     stats=self.stats_json if normalized else None, overwrite=overwrite)


@dataclass(frozen=True)
class _Window:
    clip: int      # index into LatentDataset.records
    chunk: int     # first chunk


class LatentWindows(Dataset):
    """Fixed-length windows of `length` chunks: item i is a dict with "latents", float32
    (length, 2, 8, h, w), the clip's record, "chunk" (the window's first chunk in the clip),
    and "start"/"frames" of the window's frames in the source. Only full chunks (k+1 real
    frames) are used: a clip's padded last chunk and one-frame clips are left out."""

    def __init__(self, dataset: LatentDataset, length: int, stride: int) -> None:
        if length < 1 or stride < 1:
            raise InvalidArgument(f"window length and stride must be at least 1, got {length} and {stride}")
        self.dataset, self.length, self.stride = dataset, length, stride
        span = dataset.ratio + 1
        self.windows = [_Window(i, c) for i, r in enumerate(dataset.records)
                        for c in range(0, r["frames"] // span - length + 1, stride) if r["frames"] > 1]

    def __len__(self) -> int:
        return len(self.windows)

    def __getitem__(self, index: int) -> dict:
        w = self.windows[index]
        record = self.dataset.records[w.clip]
        span = self.dataset.ratio + 1
        return {**record, "latents": self.dataset.latents(w.clip, w.chunk, self.length), "chunk": w.chunk,
                "start": record["start"] + w.chunk * span, "frames": self.length * span, "chunks": self.length}
