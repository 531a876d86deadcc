"""Chunk geometry: a video's frames split into chunks of k+1, and video times mapped to chunks.

Chunks do not overlap: chunk c starts at frame c (k+1). A short last chunk is padded by
repeating its last frame; `Chunk.frames` counts the real ones so decoding trims exactly.
A one-frame video is one image chunk (encoded as a single image, no padding). This is the
one place the geometry is written: the `.rgl` reader, the encoders and the decoders all
use it. Imports neither torch nor `models` (the file format needs it at start-up).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Iterator, TypeVar

from ..errors import InvalidArgument

Frame = TypeVar("Frame")


@dataclass(frozen=True)
class Chunk:
    index: int
    start: int    # first video frame of the chunk
    frames: int   # real frames in the chunk (1..k+1)
    padding: int  # repeated copies of the last real frame appended to reach k+1 (0 for an image)

    @property
    def is_image(self) -> bool:
        return self.frames == 1 and self.padding == 0


def chunk_count(num_frames: int, ratio: int) -> int:
    """Chunks of a video of `num_frames` frames at ratio k: ceil(N / (k+1)), 1 for an image."""
    if num_frames < 1:
        raise InvalidArgument("a video needs at least one frame")
    return 1 if num_frames == 1 else math.ceil(num_frames / (ratio + 1))


def chunk_of(index: int, num_frames: int, ratio: int) -> Chunk:
    """Chunk `index` of a video with (at least, for a full chunk) `num_frames` frames."""
    if num_frames == 1:
        return Chunk(0, 0, 1, 0)
    span = ratio + 1
    real = min(span, num_frames - index * span)
    return Chunk(index, index * span, real, span - real)


def plan_chunks(num_frames: int, ratio: int) -> list[Chunk]:
    return [chunk_of(c, num_frames, ratio) for c in range(chunk_count(num_frames, ratio))]


def chunked(frames: Iterable[Frame], ratio: int) -> Iterator[tuple[Chunk, list[Frame]]]:
    """Groups a stream of frames into (chunk, its real frames) as they arrive: memory is
    bounded by one chunk, and the chunks are those of `plan_chunks` for the stream's length."""
    span = ratio + 1
    buffer: list[Frame] = []
    count = index = 0
    for frame in frames:
        buffer.append(frame)
        count += 1
        if len(buffer) == span:
            yield chunk_of(index, count, ratio), buffer
            buffer, index = [], index + 1
    if buffer:
        yield chunk_of(index, count, ratio), buffer


def chunk_for_time(time: float, ratio: int, num_chunks: int) -> tuple[int, float]:
    """Video frame time -> (chunk index, time relative to that chunk's first frame).

    Times before the video belong to the first chunk (backward extrapolation), times after
    it to the last chunk (forward extrapolation), times between chunks to the earlier one
    (`timeline` decodes those from the later one too).
    """
    span = ratio + 1
    index = min(max(math.floor(time / span), 0), num_chunks - 1)
    return index, time - index * span
