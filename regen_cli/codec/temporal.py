"""Interpolation and extrapolation from latents: REGEN's decoder takes any real frame time.

Interpolation decodes times i / F (F = the frame-rate factor, any real > 1) between the
encoded frames: for N source frames, floor((N - 1) F) + 1 output frames at F times the
frame rate, the same span of time. Each time is decoded by the chunk that holds it (a time
in the gap between two chunks by both, cross-faded: `timeline`), with the same chunking,
tiling, latent extension and seeding as decoding.

Extrapolation decodes times outside the video. The models are trained to predict
`horizon = max(1, k / 4)` frames beyond a chunk (`train.targets.margin`), so longer
predictions are made autoregressively: predict up to `horizon` frames from the newest (or,
going backwards, oldest) k+1 frames, re-encode the window that now includes them, predict
the next `horizon`, and so on. Rules, each kept because it measured better (docs/):
- every step decodes its whole group of `horizon` times, also when fewer frames are asked
  for, so the first N frames of a longer prediction are the N-frame prediction;
- where the horizon is one frame (4x), the step decodes it together with the chunk's own
  frame next to it, which it then drops: training always decodes several frames at once,
  and a frame decoded alone has no other frame to attend to;
- the first step uses the video's own end chunk latents when that chunk is full, so it
  sees the source rather than decoded frames. When the last chunk is partial, forward
  prediction starts from the latents of the source's last k+1 frames if the caller still
  has them (`tail`: a video input), else from re-encoded decoded frames (an `.rgl` input).
Quality decays with distance; there is no hard limit other than MAX_EXTRAPOLATION.
"""

from __future__ import annotations

import collections
import itertools
import math
from dataclasses import replace
from fractions import Fraction
from typing import Iterator, Literal, Optional

import torch

from models import Model, Regen

from ..errors import InvalidArgument
from .chunks import plan_chunks
from .decode import ChunkDecoder
from .encode import encode_chunk, pad_to_latent_grid
from .latents import LatentSource
from .options import DecodeOptions
from .timeline import decode_times

MAX_EXTRAPOLATION = 10_000
NOISE_OFFSET = 1 << 30   # chunk index space for extrapolation steps' noise, apart from real chunks

Part = Literal["past", "source", "future"]


def horizon(ratio: int) -> int:
    """Frames a model is trained to predict beyond each end of a chunk: max(1, k / 4)."""
    return max(1, ratio // 4)


def interpolation_times(num_frames: int, factor: Fraction) -> list[Fraction]:
    """Source-frame times of the output frames: i / factor, i = 0 .. floor((N - 1) factor)."""
    if factor <= 1:
        raise InvalidArgument("the interpolation factor must be greater than 1")
    return [i / factor for i in range(math.floor((num_frames - 1) * factor) + 1)]


def require_regen(model: Model) -> None:
    if not isinstance(model, Regen):
        raise InvalidArgument("interpolation and extrapolation need a REGEN model (the MAGVIT-v2 baseline "
                              "decodes only a chunk's own frames)")


def check_extrapolation(future: int, past: int, at_least_one: bool = False) -> None:
    if not (0 <= future <= MAX_EXTRAPOLATION and 0 <= past <= MAX_EXTRAPOLATION) or (at_least_one and not future + past):
        raise InvalidArgument(f"give a number of future and/or past frames between 1 and {MAX_EXTRAPOLATION}")


def extend(model: Model, context: torch.Tensor, count: int, forward: bool, decoder: ChunkDecoder,
           first_latents: tuple[torch.Tensor, torch.Tensor] | None = None) -> Iterator[torch.Tensor]:
    """Frames beyond `context` (3, k+1, H, W) in [-1, 1]: `count` frames after it (forward) or
    before it (backward, yielded nearest-first). Yields (3, H, W) tensors."""
    require_regen(model)
    k = model.ratio
    height, width = context.shape[-2:]
    window = context
    made, step = 0, 0
    group = horizon(k)
    while made < count:
        n = min(group, count - made)
        if step == 0 and first_latents is not None:
            z_c, z_m = first_latents
        else:
            z_c, z_m = encode_chunk(model, pad_to_latent_grid(window).to(decoder.device))
        times = [float(k + 1 + i) for i in range(group)] if forward else [float(-1 - i) for i in range(group)]
        companion = [float(k) if forward else 0.0] if group == 1 else []
        new = decoder.decode(NOISE_OFFSET + step * 2 + (0 if forward else 1), z_c, z_m, times + companion)
        new = new[:, :n, :height, :width]
        for i in range(n):
            yield new[:, i]
        window = (torch.cat([window, new], dim=1)[:, -(k + 1):] if forward
                  else torch.cat([new.flip(1), window], dim=1)[:, :k + 1])
        made += n
        step += 1


def _window(frames: list[torch.Tensor], k: int, newest: bool) -> torch.Tensor:
    """The newest (or oldest) k+1 of `frames` (3, H, W) as (3, k+1, H, W), padded by repeating
    the edge frame when there are fewer."""
    clip = torch.stack(frames[-(k + 1):] if newest else frames[:k + 1], dim=1)
    pad = k + 1 - clip.shape[1]
    if not pad:
        return clip
    fill = (clip[:, -1:] if newest else clip[:, :1]).expand(-1, pad, -1, -1)
    return torch.cat([clip, fill] if newest else [fill, clip], dim=1)


def extrapolated_frames(model: Model, source: LatentSource, options: DecodeOptions, future: int = 0,
                        past: int = 0, include_source: bool = True, tail: Optional[torch.Tensor] = None
                        ) -> Iterator[tuple[Part, torch.Tensor]]:
    """The one extrapolation stream: yields (part, frame (3, H, W) in [-1, 1]) in time order:
    `past` predicted frames, then the decoded video (if `include_source`), then `future`
    predicted frames. `options` resolved; `tail` (3, k+1, H, W) in [-1, 1]: the source's last
    k+1 frames, if the caller has them. Memory is bounded by a chunk, not the video."""
    require_regen(model)
    check_extrapolation(future, past)
    k = source.ratio
    if tail is not None and tuple(tail.shape) != (3, k + 1, source.height, source.width):
        raise InvalidArgument(f"tail must be the last k+1 frames (3, {k + 1}, {source.height}, {source.width}), "
                              f"got {tuple(tail.shape)}")
    predictor = ChunkDecoder(model, replace(options, extension=False))
    chunks = plan_chunks(source.num_frames, k)
    decoded = (frame for _, frame in decode_times(ChunkDecoder(model, options), source, range(source.num_frames)))

    def own_latents(index: int) -> tuple[torch.Tensor, torch.Tensor] | None:
        return source.chunk(index) if chunks[index].frames == k + 1 else None

    first = list(itertools.islice(decoded, chunks[0].frames))
    if past:
        before = list(extend(model, _window(first, k, False), past, False, predictor, own_latents(0)))
        for frame in reversed(before):
            yield "past", frame
    newest: collections.deque = collections.deque(maxlen=k + 1)
    for frame in itertools.chain(first, decoded):
        if include_source:
            yield "source", frame
        newest.append(frame)
    recent = list(newest)
    if future:
        latents = own_latents(len(chunks) - 1)
        if latents is None and tail is not None and source.num_frames > k + 1:
            context = tail.float()
            latents = encode_chunk(model, pad_to_latent_grid(context).to(predictor.device))
        else:
            context = _window(recent, k, True)
        for frame in extend(model, context, future, True, predictor, latents):
            yield "future", frame
