"""Frames at any real video times, decoded chunk by chunk in order, with seamless boundaries.

A time well inside chunk c (local time 0..k) is decoded by that chunk alone. Chunks do not
overlap, so chunk c's last frame (local k) and chunk c+1's first (local k+1) are decoded
from different latents and, decoded on their own, do not quite agree: the picture jumps at
every boundary. Latent extension removes the jump by letting the two chunks overlap in
time at decode: REGEN's decoder takes any real frame time, so chunk c+1 also decodes the
`back` frame times before its start (backward extrapolation) and chunk c the `fwd` times
after its end (forward), and every time in the window (k - back, k + 1 + fwd) of chunk c is
a cross-fade of the two, chunk c+1's weight rising linearly across the window. A jump
between the chunks is then spread over the window's back + fwd + 1 frame steps instead
of falling on one. Without extension (reach (0, 0)) the window is the gap (k, k+1) alone:
a time between two chunks' frames is decoded by both, cross-faded by distance. The models
are trained on these times (targets.py: extrapolation targets reach k/4 frames, at least
one, beyond each end of a chunk, interpolation targets fractions of a frame). Times before
the first chunk or after the last are decoded by the nearest chunk alone (extrapolation).
`decode_times` is the one streaming decoder of whole videos and of any set of times: the
Python API, the file pipelines and `regen eval` all go through it.
"""

from __future__ import annotations

from typing import Iterable, Iterator, Sequence

import torch

from .chunks import chunk_for_time
from .decode import ChunkDecoder
from .latents import LatentSource

Plan = dict[int, list[tuple[int, float, float]]]


REACH = {4: (1, 0), 8: (0, 2), 16: (0, 2), 32: (0, 3)}


def extension_reach(ratio: int) -> tuple[int, int]:
    """(back, fwd): frames before a boundary that the later chunk also decodes, and frames after
    it that the earlier chunk also decodes. Chosen on the validation clips (docs/experiments.md):
    the fewest frames that lower the jump about as much as any split tried, since a chunk's
    frames are decoded together and attention makes the cost grow faster than their number.
    At 8x to 32x the earlier chunk's forward prediction lowers the jump more than the later
    chunk's backward one: a chunk's first frame, decoded mostly from its content latent, is
    sharper than the frames after it, and a window that runs further past it gives that
    frame less weight. At 4x the later chunk's backward prediction keeps PSNR."""
    return REACH[ratio]


def plan_times(times: Sequence[float], ratio: int, num_chunks: int, reach: tuple[int, int] = (0, 0)) -> Plan:
    """Video times -> {chunk index: [(output index, local time, weight)]}, chunks in order, each
    chunk's times in increasing order; each output's weights sum to 1. `reach` = (back, fwd)
    widens every boundary's cross-fade window (see the module docstring)."""
    back, fwd = reach
    span = ratio + 1
    start, end = ratio - back, span + fwd    # the window of chunk c's local times shared with chunk c+1
    plan: Plan = {}
    for i, t in enumerate(times):
        index, local = chunk_for_time(t, ratio, num_chunks)
        if local < start and index > 0 and local + span < end:
            index, local = index - 1, local + span     # inside the next chunk's first fwd frames
        if start < local < end and index + 1 < num_chunks:
            w = (local - start) / (end - start)
            plan.setdefault(index, []).append((i, local, 1 - w))
            plan.setdefault(index + 1, []).append((i, local - span, w))
        else:
            plan.setdefault(index, []).append((i, local, 1.0))
    return {c: sorted(items, key=lambda item: item[1]) for c, items in sorted(plan.items())}


def decode_times(decoder: ChunkDecoder, source: LatentSource, times: Iterable[float]
                 ) -> Iterator[tuple[int, torch.Tensor]]:
    """Yields (output index, frame (3, H, W) float32 in [-1, 1], cropped to the source's size)
    for every time, in order of completion (for increasing times: in time order). Each chunk
    is decoded once, with all of its times together, in chunk order; memory holds at most the
    frames waiting for the next chunk's share."""
    reach = extension_reach(source.ratio) if decoder.extension else (0, 0)
    plan = plan_times([float(t) for t in times], source.ratio, source.num_chunks, reach)
    last = {i: c for c, items in plan.items() for i, _, _ in items}   # the last chunk contributing to output i
    pending: dict[int, torch.Tensor] = {}
    for c, items in plan.items():
        z_c, z_m = source.chunk(c)
        frames = decoder.decode(c, z_c, z_m, [local for _, local, _ in items])
        for j, (i, _, w) in enumerate(items):
            pending[i] = pending.get(i, 0) + w * frames[:, j]
        del frames   # before the next chunk's decode: one chunk's frames in memory, not two
        for i in sorted(i for i, _, _ in items if last[i] == c):
            yield i, pending.pop(i)[:, :source.height, :source.width]
