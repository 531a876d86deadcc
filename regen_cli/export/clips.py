"""One video -> its clips -> chunks -> int8 latents, streamed.

A clip is `clip_frames` consecutive frames (the whole video when 0; the last clip of a
video may be shorter), encoded exactly as `regen encode` encodes a video made of those
frames: chunks of k+1 frames from the clip's first frame, a short last chunk padded by
repeating its last frame, a one-frame clip as an image. Frames are first downscaled so
their long side is at most `max_side` (antialiased, as `regen eval --max-side` does).
Chunks stream through one at a time (or `batch` at a time), so memory is bounded by the
batch, never by a video's length.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Iterable, Iterator, Union

import numpy as np
import torch

from models import Model
from models.quantize import to_int8

from ..codec.chunks import Chunk, chunked
from ..codec.encode import encode_chunks, pad_chunk, pad_to_latent_grid
from ..files.encode import _int8_latents
from ..io.frames import fit_long_side, to_model_range


def clip_chunks(frames: Iterable[np.ndarray], ratio: int, clip_frames: int, first_clip: int = 0
                ) -> Iterator[tuple[int, Iterator[tuple[Chunk, list[np.ndarray]]]]]:
    """uint8 (H, W, 3) frames of a video -> (clip index, its (chunk, real frames) stream), in order.

    Clip c holds frames [c N, (c+1) N) (N = `clip_frames`; 0: one clip of every frame);
    clips before `first_clip` are read and skipped (resuming). Exhaust each clip's chunk
    stream before taking the next clip."""
    frames = iter(frames)
    if first_clip and not clip_frames:
        return                                       # the one clip of the video is done
    if first_clip:
        next(itertools.islice(frames, first_clip * clip_frames - 1, None), None)   # consume, do not encode
    clip = first_clip
    while (first := next(frames, None)) is not None:
        rest = itertools.islice(frames, clip_frames - 1) if clip_frames else frames
        yield clip, chunked(itertools.chain([first], rest), ratio)
        clip += 1


def resized(frames: Iterable[np.ndarray], max_side: int) -> Iterator[np.ndarray]:
    """Frames downscaled so the long side is at most `max_side` (0: as they are)."""
    for frame in frames:
        yield fit_long_side(frame, max_side) if max_side else frame


@dataclass(frozen=True)
class ChunkJob:
    """A chunk to encode, with where it belongs."""

    file: int                  # position in the rank's share of the videos
    clip: int                  # clip index within the video
    chunk: Chunk
    frames: list[np.ndarray]   # its real frames, uint8 (H, W, 3)


@dataclass(frozen=True)
class EncodedChunk:
    file: int
    clip: int
    chunk: Chunk
    size: tuple[int, int]      # (height, width) of its frames in pixels
    latents: np.ndarray        # int8 (2, C, h, w): z_c, z_m (z_m = z_c for an image)


def encode_job(model: Model, job: ChunkJob) -> np.ndarray:
    """One chunk, through the same code as `regen encode` -> int8 (2, C, h, w)."""
    latents = _int8_latents(model, job.frames, job.chunk)
    return np.concatenate([latents, latents]) if job.chunk.is_image else latents


def _encode_batch(model: Model, jobs: list[ChunkJob]) -> list[np.ndarray]:
    if len(jobs) == 1:
        return [encode_job(model, jobs[0])]
    device = next(model.parameters()).device
    clips = [pad_chunk(pad_to_latent_grid(to_model_range(np.stack(j.frames))), j.chunk).to(device) for j in jobs]
    return [to_int8(torch.stack([z_c, z_c if job.chunk.is_image else z_m])).numpy()
            for job, (z_c, z_m) in zip(jobs, encode_chunks(model, clips))]


def _shape(job: ChunkJob) -> tuple:
    return job.chunk.is_image, job.frames[0].shape


def encoded(model: Model, stream: Iterable[Union[ChunkJob, object]], batch: int) -> Iterator[object]:
    """The stream with every `ChunkJob` replaced by its `EncodedChunk`, in the same order;
    other items pass through. Up to `batch` consecutive chunks of one shape (chunks of
    several videos alike) go through the encoder together."""
    pending: list[ChunkJob] = []

    def flush() -> Iterator[EncodedChunk]:
        for job, latents in zip(pending, _encode_batch(model, pending)):
            yield EncodedChunk(job.file, job.clip, job.chunk, job.frames[0].shape[:2], latents)
        pending.clear()

    for item in stream:
        if isinstance(item, ChunkJob):
            if pending and (len(pending) == batch or _shape(item) != _shape(pending[0])):
                yield from flush()
            pending.append(item)
        else:
            if pending:
                yield from flush()
            yield item
    if pending:
        yield from flush()
