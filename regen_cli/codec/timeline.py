"""Frames at any real video times, decoded chunk by chunk in order.

A time inside chunk c (local time 0..k) is decoded by that chunk alone. Chunks do not
overlap, so a time in the gap between chunk c's last frame and chunk c+1's first (local
k < t < k+1) is covered by neither chunk's latents: it is decoded by both, chunk c forward
at local t and chunk c+1 backward at local t - (k+1), and the two are cross-faded by
distance (chunk c+1's weight grows linearly from 0 at chunk c's last frame to 1 at its own
first). The models are trained on these times (targets.py: interpolation targets reach up
to (F-1)/F beyond each end of a chunk). Times before the first chunk or after the last
are decoded by the nearest chunk alone (extrapolation). `decode_times` is the one
streaming decoder of whole videos and of any set of times: the Python API, the file
pipelines and `regen eval` all go through it.
"""

from __future__ import annotations

from typing import Iterable, Iterator, Sequence

import torch

from .chunks import chunk_for_time
from .decode import ChunkDecoder
from .latents import LatentSource


def plan_times(times: Sequence[float], ratio: int, num_chunks: int) -> dict[int, list[tuple[int, float, float]]]:
    """Video times -> {chunk index: [(output index, local time, weight)]}, chunks in order;
    each output's weights sum to 1."""
    span = ratio + 1
    plan: dict[int, list[tuple[int, float, float]]] = {}
    for i, t in enumerate(times):
        index, local = chunk_for_time(t, ratio, num_chunks)
        if ratio < local < span and index + 1 < num_chunks:
            w = local - ratio
            plan.setdefault(index, []).append((i, local, 1 - w))
            plan.setdefault(index + 1, []).append((i, local - span, w))
        else:
            plan.setdefault(index, []).append((i, local, 1.0))
    return {c: sorted(items, key=lambda item: item[1]) for c, items in sorted(plan.items())}


def decode_times(decoder: ChunkDecoder, source: LatentSource, times: Iterable[float]
                 ) -> Iterator[tuple[int, torch.Tensor]]:
    """Yields (output index, frame (3, H, W) float32 in [-1, 1], cropped to the source's size)
    for every time, in order of completion (for increasing times: in time order). Each chunk
    is decoded once, with all of its times together, in chunk order (latent extension)."""
    plan = plan_times([float(t) for t in times], source.ratio, source.num_chunks)
    last = {i: c for c, items in plan.items() for i, _, _ in items}   # the last chunk contributing to output i
    pending: dict[int, torch.Tensor] = {}
    for c, items in plan.items():
        z_c, z_m = source.chunk(c)
        frames = decoder.decode(c, z_c, z_m, [local for _, local, _ in items])
        for j, (i, _, w) in enumerate(items):
            pending[i] = pending.get(i, 0) + w * frames[:, j]
        for i in sorted(i for i, _, _ in items if last[i] == c):
            yield i, pending.pop(i)[:, :source.height, :source.width]
