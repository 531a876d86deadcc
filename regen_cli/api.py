"""The public Python API: encode, decode at any frame times, interpolate, extrapolate.

    import regen_cli as regen
    model = regen.build_model("regen-small-16x")        # or regen.load_model("m.safetensors")
    latents = regen.encode(model, video)                # video (3, T, H, W) float in [-1, 1]
    frames = regen.decode(model, latents, steps=1, seed=0)           # (3, T, H, W)
    tween = regen.decode(model, latents, times=torch.arange(0, T - 1, 0.5))  # any real times
    regen.save_model(model, "m.safetensors")

Times are video frame indices as real numbers: integers reconstruct, fractions
interpolate, negative times or times past the last frame extrapolate. Any H and W work:
frames are padded to multiples of 8 (edge replication) and cropped back. Nothing inside
regen imports this module: it is a thin layer over `codec`.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Optional

import torch

from models import Model

from .codec.decode import ChunkDecoder
from .codec.encode import encode_video
from .codec.latents import VideoLatents, checked_latents
from .codec.options import DecodeDefaults, DecodeOptions
from .codec.temporal import extrapolated_frames, interpolation_times, require_regen
from .codec.timeline import decode_times
from .errors import InvalidArgument


def encode(model: Model, video: torch.Tensor) -> VideoLatents:
    """(3, T, H, W) float in [-1, 1], any T >= 1, any H, W -> VideoLatents with ceil(T/(k+1)) chunks."""
    return encode_video(model, video)


def _options(steps: int, seed: int, tile: Optional[int], extension: bool, temperature: float) -> DecodeOptions:
    return DecodeOptions(steps, seed, temperature, extension, tile).resolve(DecodeDefaults())


def _check(model: Model, latents: VideoLatents) -> VideoLatents:
    """The latents to decode: the model's ratio, finite, clamped to [-1, 1] (with a warning)."""
    if latents.ratio != model.ratio:
        raise InvalidArgument(f"latents are {latents.ratio}x but the model is {model.ratio}x")
    return checked_latents(latents)


def decode(model: Model, latents: VideoLatents, times: Optional[torch.Tensor] = None, steps: int = 1,
           seed: int = 0, tile: Optional[int] = None, extension: bool = True,
           temperature: float = 1.0) -> torch.Tensor:
    """VideoLatents -> frames (3, len(times), H, W) in [-1, 1], default times 0..T-1.

    Each time is decoded from the chunk that holds it, a time between two chunks from both;
    the frames of one chunk are decoded together. `steps` sampling steps seeded by `seed`;
    `tile` in pixels (None: automatic, 0: whole frames); `extension`: latent extension
    across chunks; `temperature` scales the sampling noise (0..2, 1: as trained).

    Latents may be any floats (a generator's samples) but the decoder knows only [-1, 1]:
    values outside are clamped with a `LatentRangeWarning`; NaN or inf is an error."""
    latents = _check(model, latents)
    if times is None:
        times = torch.arange(latents.num_frames, dtype=torch.float64)
    times = torch.as_tensor(times, dtype=torch.float64).flatten()
    decoder = ChunkDecoder(model, _options(steps, seed, tile, extension, temperature))
    out = torch.empty(3, len(times), latents.height, latents.width)
    for i, frame in decode_times(decoder, latents, times.tolist()):
        out[:, i] = frame
    return out


def interpolate(model: Model, latents: VideoLatents, factor: float | Fraction, steps: int = 1, seed: int = 0,
                tile: Optional[int] = None, extension: bool = True, temperature: float = 1.0) -> torch.Tensor:
    """VideoLatents -> frames (3, floor((N-1) F) + 1, H, W) in [-1, 1] at F times the frame rate."""
    require_regen(model)
    times = torch.tensor([float(t) for t in interpolation_times(latents.num_frames, Fraction(factor))],
                         dtype=torch.float64)
    return decode(model, latents, times, steps, seed, tile, extension, temperature)


def extrapolate(model: Model, latents: VideoLatents, future: int = 0, past: int = 0, steps: int = 1, seed: int = 0,
                tile: Optional[int] = None, tail: Optional[torch.Tensor] = None, temperature: float = 1.0,
                extension: bool = True) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """VideoLatents -> (past frames (3, past, H, W), decoded video (3, N, H, W), future frames
    (3, future, H, W)), all in [-1, 1] and in time order. `tail` (3, k+1, H, W) in [-1, 1], the
    source's last k+1 frames, if you have them: forward prediction then starts from the source
    even when the last chunk is partial."""
    latents = _check(model, latents)
    parts: dict[str, list[torch.Tensor]] = {"past": [], "source": [], "future": []}
    options = _options(steps, seed, tile, extension, temperature)
    for part, frame in extrapolated_frames(model, latents, options, future, past, tail=tail):
        parts[part].append(frame)
    empty = torch.empty(3, 0, latents.height, latents.width)
    return tuple(torch.stack(parts[p], dim=1) if parts[p] else empty for p in ("past", "source", "future"))
