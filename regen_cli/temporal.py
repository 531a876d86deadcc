"""Interpolation and extrapolation from latents: REGEN's decoder takes any real frame time.

Interpolation decodes times i / F (F = the frame-rate factor, any real > 1) between the
encoded frames: for N source frames, floor((N - 1) F) + 1 output frames at F times the
frame rate, the same span of time. Each time is decoded by the chunk that holds it (a time
in the gap between two chunks by both, cross-faded: `timeline`), with the same chunking,
tiling, latent extension and seeding as `decode`.

Extrapolation decodes times outside the video. The models are trained to predict
`horizon = max(1, k / 4)` frames beyond a chunk (targets.margin), so longer predictions
are made autoregressively: predict up to `horizon` frames from the newest (or, going
backwards, oldest) k+1 frames, re-encode the window that now includes them, predict the
next `horizon`, and so on. Every step decodes its whole group of `horizon` times, also when
fewer frames are asked for, so the first N frames of a longer prediction are the N-frame
prediction (and regen-8x's --future 1 measured 24.25 dB as the first of two, 24.13 alone).
Where the horizon is one frame (4x), the step decodes it together with the chunk's own frame
next to it, which it then drops: training always decodes several frames at once
(--target-frames), and a frame decoded alone, with no other frame to attend to, measured
worse (regen-4x, backward d=1 on near-static motion.mov: 35.21 dB alone, 37.17 with the
companion; README). The first step uses the video's own end chunk latents when that chunk
is full, so it sees the source rather than decoded frames. When the last chunk is partial,
forward prediction starts from the latents of the source's last k+1 frames if the caller
still has them (`tail`: a video input), else from re-encoded decoded frames (an .rgl input,
which is measurably worse). Quality decays with distance (measured in the README); there is
no hard limit other than MAX_EXTRAPOLATION.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Iterator

import torch

from models import Model, Regen

from .api import pad_to_multiple_of_8
from .decoding import ChunkDecoder
from .encoding import encode_chunk
from .errors import UsageError
from .targets import margin

MAX_EXTRAPOLATION = 10_000
NOISE_OFFSET = 1 << 30   # chunk index space for extrapolation steps' noise, apart from real chunks


def interpolation_times(num_frames: int, factor: Fraction) -> list[Fraction]:
    """Source-frame times of the output frames: i / factor, i = 0 .. floor((N - 1) factor)."""
    if factor <= 1:
        raise UsageError("the interpolation factor must be greater than 1")
    return [i / factor for i in range(math.floor((num_frames - 1) * factor) + 1)]


def require_regen(model: Model) -> None:
    if not isinstance(model, Regen):
        raise UsageError("interpolation and extrapolation need a REGEN model (the MAGVIT-v2 baseline "
                         "decodes only a chunk's own frames)")


def extend(model: Model, context: torch.Tensor, count: int, forward: bool, decoder: ChunkDecoder,
           first_latents: tuple[torch.Tensor, torch.Tensor] | None = None) -> Iterator[torch.Tensor]:
    """Frames beyond `context` (3, k+1, H, W) in [-1, 1]: `count` frames after it (forward) or
    before it (backward, yielded nearest-first). Yields (3, H, W) tensors."""
    require_regen(model)
    k = model.ratio
    height, width = context.shape[-2:]
    window = context
    made, step = 0, 0
    horizon = margin(k)
    while made < count:
        n = min(horizon, count - made)
        if step == 0 and first_latents is not None:
            z_c, z_m = first_latents
        else:
            z_c, z_m = encode_chunk(model, pad_to_multiple_of_8(window).to(decoder.device))
        times = [float(k + 1 + i) for i in range(horizon)] if forward else [float(-1 - i) for i in range(horizon)]
        companion = [float(k) if forward else 0.0] if horizon == 1 else []
        new = decoder.decode(NOISE_OFFSET + step * 2 + (0 if forward else 1), z_c, z_m, times + companion)
        new = new[:, :n, :height, :width]
        for i in range(n):
            yield new[:, i]
        window = (torch.cat([window, new], dim=1)[:, -(k + 1):] if forward
                  else torch.cat([new.flip(1), window], dim=1)[:, :k + 1])
        made += n
        step += 1


def source_start(model: Model, frames: torch.Tensor, device: torch.device
                 ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
    """The source's last k+1 frames (3, k+1, H, W) in [-1, 1] -> (the context for `extend`, its
    latents), so forward prediction starts from the source even when the last chunk is partial."""
    frames = frames.float()
    return frames, encode_chunk(model, pad_to_multiple_of_8(frames).to(device))


def interpolate(model: Model, latents, factor: float | Fraction, steps: int = 1, seed: int = 0,
                tile: int | None = None, extension: bool = True, temperature: float = 1.0) -> torch.Tensor:
    """VideoLatents -> frames (3, floor((N-1) F) + 1, H, W) at F times the frame rate."""
    from .api import decode
    require_regen(model)
    times = torch.tensor([float(t) for t in interpolation_times(latents.num_frames, Fraction(factor))],
                         dtype=torch.float64)
    return decode(model, latents, times, steps, seed, tile, extension, temperature)


def extrapolate(model: Model, latents, future: int = 0, past: int = 0, steps: int = 1, seed: int = 0,
                tile: int | None = None, tail: torch.Tensor | None = None, temperature: float = 1.0
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """VideoLatents -> (past frames (3, past, H, W), decoded video (3, N, H, W), future frames
    (3, future, H, W)), all in [-1, 1] and in time order. `tail` (3, k+1, H, W) in [-1, 1], the
    source's last k+1 frames, if you have them: forward prediction then starts from the source
    even when the last chunk is partial."""
    from .api import decode, tile_cells
    require_regen(model)
    k, n = model.ratio, latents.num_frames
    video = decode(model, latents, steps=steps, seed=seed, tile=tile, temperature=temperature)
    predictor = ChunkDecoder(model, steps, seed, tile_cells(tile), extension=False, temperature=temperature)
    chunks = latents.chunks

    def window(clip: torch.Tensor, newest: bool) -> torch.Tensor:
        pad = k + 1 - clip.shape[1]
        if pad <= 0:
            return clip
        edge = clip[:, -1:] if newest else clip[:, :1]
        fill = edge.expand(-1, pad, -1, -1)
        return torch.cat([clip, fill] if newest else [fill, clip], dim=1)

    def ends(index: int) -> tuple[torch.Tensor, torch.Tensor] | None:
        return (latents.z_c[index], latents.z_m[index]) if chunks[index].frames == k + 1 else None

    empty = video[:, :0]
    before = list(extend(model, window(video[:, :k + 1], False), past, False, predictor, ends(0)))
    last = ends(len(chunks) - 1)
    if tail is not None and last is None and n > k + 1 and future:
        if tuple(tail.shape) != (3, k + 1, latents.height, latents.width):
            raise ValueError(f"tail must be the last k+1 frames (3, {k + 1}, H, W), got {tuple(tail.shape)}")
        context, last = source_start(model, tail, predictor.device)
    else:
        context = window(video[:, -(k + 1):], True)
    after = list(extend(model, context, future, True, predictor, last))
    return (torch.stack(before[::-1], dim=1) if before else empty, video,
            torch.stack(after, dim=1) if after else empty)
