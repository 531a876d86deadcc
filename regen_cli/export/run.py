"""One export: the videos of this rank, clip by clip into shards, resumable; then the merge.

Every rank lists the same sorted videos and takes every world-th one, starting at its rank.
A re-run in the same folder with the same settings resumes: it keeps the rank's finished
shards, continues from the cursor the last one records, and writes the same shards an
uninterrupted run would have written. A video that fails (not a video, damaged data) is
recorded with its error and the run goes on; clips it gave before failing are kept.
"""

from __future__ import annotations

import shutil
import sys
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import numpy as np
import torch
import torch.distributed as dist
from tqdm import tqdm

from models import Model

from .. import __version__
from ..errors import ExportExists, InvalidArgument
from ..io.atomic import atomic_output
from ..io.checkpoints import load_model, weights_sha256
from ..io.video import VideoReader, probe_frame_rate
from ..io.zoo import ModelRef
from ..train.distributed import Dist
from .clips import ChunkJob, EncodedChunk, clip_chunks, encoded, resized
from .layout import INDEX, SETTINGS, SHARDS, STATS, ExportSettings, clip_key, sources_digest
from .merge import gather, write_index_and_stats
from .shards import ShardWriter, finished_shards, remove_temporaries
from .sources import list_sources

CUDA_BATCH = 16   # chunks per encoder batch on CUDA (--batch default); 1 on CPU


@dataclass(frozen=True)
class ExportConfig:
    sources: tuple[Path, ...]        # video files, folders, .txt lists
    out: Path                        # the export folder
    model: ModelRef
    clip_frames: int = 0             # frames per clip, a multiple of k+1 (0: each video is one clip)
    max_side: int = 0                # downscale so the long side is at most this (0: full size)
    shard_bytes: int = 256_000_000   # latent bytes per shard, at most
    batch: int = 0                   # chunks per encoder batch (0: 1 on CPU, CUDA_BATCH on CUDA)
    overwrite: bool = False          # start over when the folder holds an export with other settings


@dataclass(frozen=True)
class _VideoStart:
    file: int
    fps: Fraction


@dataclass(frozen=True)
class _ClipEnd:
    file: int
    clip: int


@dataclass(frozen=True)
class _Failed:
    file: int
    error: str


@dataclass(frozen=True)
class _VideoEnd:
    file: int


def _jobs(share: list[Path], start: tuple[int, int], config: ExportConfig, ratio: int) -> Iterator[object]:
    """The rank's videos from `start` on as a stream of chunks to encode, clip ends and failures."""
    for pos in range(start[0], len(share)):
        try:
            with VideoReader(share[pos]) as reader:
                yield _VideoStart(pos, probe_frame_rate(share[pos]))   # the average over its timestamps
                first = start[1] if pos == start[0] else 0
                for clip, chunks in clip_chunks(resized(reader.frames(), config.max_side), ratio,
                                                config.clip_frames, first):
                    for chunk, frames in chunks:
                        yield ChunkJob(pos, clip, chunk, frames)
                    yield _ClipEnd(pos, clip)
        except MemoryError:
            raise
        except Exception as exc:   # any reason a video cannot be read is recorded, and the run goes on
            yield _Failed(pos, str(exc) or type(exc).__name__)
        yield _VideoEnd(pos)


def _settings(config: ExportConfig, model: Model, sources: list[Path], world: int) -> ExportSettings:
    span = model.ratio + 1
    if config.clip_frames < 0 or config.clip_frames % span:
        low = max(span, config.clip_frames // span * span)
        raise InvalidArgument(f"clip frames must be 0 (whole videos) or a multiple of k+1 = {span} at {model.ratio}x, "
                              f"so that clips are whole chunks (e.g. {low} or {low + span}); got {config.clip_frames}")
    if config.max_side < 0 or config.shard_bytes <= 0:
        raise InvalidArgument("max side must be >= 0 and the shard size positive")
    return ExportSettings(config.model.name, weights_sha256(config.model.path), model.ratio, config.clip_frames,
                          config.max_side, config.shard_bytes, world, len(sources), sources_digest(sources))


def _prepare_folder(out: Path, settings: ExportSettings, overwrite: bool) -> None:
    """Rank 0: creates the folder, or checks that it holds an export with the same settings
    (or, with `overwrite`, removes that export's files)."""
    out.mkdir(parents=True, exist_ok=True)
    found = out / SETTINGS
    if found.exists():
        try:
            differences = settings.differences(ExportSettings.from_json(found.read_text()))
        except (ValueError, KeyError, TypeError):
            differences = ["format"]
        if differences and not overwrite:
            raise ExportExists(out, differences)
        if differences:
            shutil.rmtree(out / SHARDS, ignore_errors=True)
            for name in (INDEX, STATS, SETTINGS):
                (out / name).unlink(missing_ok=True)
    (out / SHARDS).mkdir(exist_ok=True)
    if not found.exists():
        with atomic_output(found, overwrite=True) as tmp:
            tmp.write_text(settings.to_json())


def _agree(value, env: Dist, what: str):
    """Every rank's `value` must be the same (the digest of the sorted source list)."""
    values = gather(value, env)
    if any(v != values[0] for v in values):
        raise InvalidArgument(f"the ranks do not agree on {what}: every rank must see the same inputs and folder")
    return values[0]


def _bars(env: Dist, total: int, quiet: bool) -> tuple[tqdm, tqdm]:
    hide = quiet or not env.main or not sys.stderr.isatty()
    files = tqdm(total=total, unit="video", desc="videos" + (f" (rank 0 of {env.world})" if env.world > 1 else ""),
                 position=0, file=sys.stderr, dynamic_ncols=True, disable=hide)
    chunks = tqdm(unit="chunk", desc="chunks", position=1, file=sys.stderr, dynamic_ncols=True, disable=hide)
    return files, chunks


def _export_share(config: ExportConfig, settings: ExportSettings, model: Model, share: list[Path],
                  files: list[int], env: Dist, quiet: bool) -> tuple[list, int]:
    """Exports this rank's share; returns (all its shards, new clips encoded by this run)."""
    root = config.out
    done = finished_shards(root, env.rank)
    remove_temporaries(root, env.rank)
    start = done[-1].next if done else (0, 0)
    header = {"model": settings.model, "model_sha256": settings.model_sha256, "ratio": settings.ratio,
              "regen_version": __version__}
    writer = ShardWriter(root, env.rank, len(done), settings.shard_bytes, header)
    device = next(model.parameters()).device
    batch = config.batch or (CUDA_BATCH if device.type == "cuda" else 1)
    bar_files, bar_chunks = _bars(env, len(share), quiet)
    bar_files.update(start[0])
    parts: list[EncodedChunk] = []
    next_clip = {start[0]: start[1]}      # per video: the clip index after its last exported clip
    fps = Fraction(0)
    new_clips = 0
    for item in encoded(model, _jobs(share, start, config, settings.ratio), batch):
        if isinstance(item, _VideoStart):
            fps = item.fps
        elif isinstance(item, EncodedChunk):
            parts.append(item)
            bar_chunks.update(1)
        elif isinstance(item, _ClipEnd):
            start_frame, last = item.clip * settings.clip_frames, parts[-1].chunk
            key = clip_key(files[item.file], start_frame)
            record = {"key": key, "file": files[item.file], "source": str(share[item.file]), "start": start_frame,
                      "frames": last.start + last.frames, "chunks": len(parts),
                      "fps": f"{fps.numerator}/{fps.denominator}", "height": parts[0].size[0],
                      "width": parts[0].size[1]}
            writer.add(key, np.stack([p.latents for p in parts]), record, (item.file, item.clip))
            next_clip[item.file] = item.clip + 1
            parts, new_clips = [], new_clips + 1
        elif isinstance(item, _Failed):
            parts = []   # a clip the failure cut short is dropped
            writer.fail({"file": files[item.file], "source": str(share[item.file]), "error": item.error,
                         "clips": next_clip.get(item.file, 0)})
        elif isinstance(item, _VideoEnd):
            bar_files.update(1)
    if not writer.empty:
        writer.close((len(share), 0))
    bar_chunks.close()
    bar_files.close()
    return done + writer.written, new_clips


def export_dataset(config: ExportConfig, env: Dist, device: torch.device, quiet: bool = False) -> dict:
    """Exports `config.sources` into `config.out` as this rank of `env` (one process: rank 0
    of 1); returns the counts of the whole export (videos, clips, chunks, failed, shards),
    this run's new clips, seconds and clips per second."""
    began = time.perf_counter()
    sources = list_sources(list(config.sources))
    model = load_model(config.model.path, device)
    settings = _settings(config, model, sources, env.world)
    _agree(settings.sources_sha256, env, "the list of input videos")
    problem = None
    if env.main:
        try:
            _prepare_folder(config.out, settings, config.overwrite)
        except ExportExists as exc:
            problem = exc.differences
    problem = gather(problem, env)[0]
    if problem is not None:
        raise ExportExists(config.out, problem)
    files = list(range(env.rank, len(sources), env.world))
    share = [sources[i] for i in files]
    shards, new_clips = _export_share(config, settings, model, share, files, env, quiet)
    everything = [s for rank_shards in gather(shards, env) for s in rank_shards]
    counts = write_index_and_stats(config.out, settings, everything) if env.main else None
    counts = gather(counts, env)[0]
    seconds = time.perf_counter() - began
    new = sum(gather(new_clips, env))
    if env.world > 1:
        dist.barrier()
    return {"output": str(config.out), **counts, "new_clips": new, "seconds": round(seconds, 3),
            "clips_per_second": round(new / seconds, 4) if seconds else 0.0, "model": settings.model,
            "ratio": settings.ratio, "ranks": env.world}
