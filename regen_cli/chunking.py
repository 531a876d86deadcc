"""Split a video's frames into chunks of k+1 and map video frame times to chunks.

Chunks do not overlap: chunk c starts at frame c (k+1). A short last chunk is padded by
repeating its last frame; `Chunk.frames` counts the real ones so decoding trims exactly.
A one-frame video is one image chunk (encoded as a single image, no padding).
Does not import `models`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Chunk:
    index: int
    start: int    # first video frame of the chunk
    frames: int   # real frames in the chunk (1..k+1)
    padding: int  # repeated copies of the last real frame appended to reach k+1 (0 for an image)

    @property
    def is_image(self) -> bool:
        return self.frames == 1 and self.padding == 0


def plan_chunks(num_frames: int, ratio: int) -> list[Chunk]:
    if num_frames < 1:
        raise ValueError("a video needs at least one frame")
    if num_frames == 1:
        return [Chunk(0, 0, 1, 0)]
    span = ratio + 1
    count = math.ceil(num_frames / span)
    return [Chunk(c, c * span, min(span, num_frames - c * span), span - min(span, num_frames - c * span))
            for c in range(count)]


def chunk_for_time(time: float, ratio: int, num_chunks: int) -> tuple[int, float]:
    """Video frame time -> (chunk index, time relative to that chunk's first frame).

    Times before the video belong to the first chunk (backward extrapolation), times after
    it to the last chunk (forward extrapolation), times between chunks to the earlier one
    (`timeline` decodes those from the later one too).
    """
    span = ratio + 1
    index = min(max(math.floor(time / span), 0), num_chunks - 1)
    return index, time - index * span
