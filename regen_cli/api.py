"""The public Python API: build, encode, decode at any frame times, save, load.

    import regen_cli as regen
    model = regen.build_model("regen-small-16x")        # or regen.load_model("m.safetensors")
    latents = regen.encode(model, video)                # video (3, T, H, W) float in [-1, 1]
    frames = regen.decode(model, latents, steps=1, seed=0)           # (3, T, H, W)
    tween = regen.decode(model, latents, times=torch.arange(0, T - 1, 0.5))  # any real times
    regen.save_model(model, "m.safetensors")

Times are video frame indices as real numbers: integers reconstruct, fractions
interpolate, negative times or times past the last frame extrapolate. Any H and W work:
frames are padded to multiples of 8 (edge replication) and cropped back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch
import torch.nn.functional as F

from models import Model

from .chunking import Chunk, plan_chunks
from .decoding import ChunkDecoder
from .encoding import encode_chunk
from .timeline import decode_times


@dataclass(frozen=True)
class VideoLatents:
    """Per-chunk latents of one video."""

    z_c: torch.Tensor     # (N, 8, h, w) content latents on the q/127 grid, one per chunk
    z_m: torch.Tensor     # (N, 8, h, w) motion latents (equal to z_c for an image)
    ratio: int            # k
    num_frames: int       # frames of the source video
    height: int           # source height in pixels (before padding to a multiple of 8)
    width: int

    @property
    def chunks(self) -> list[Chunk]:
        return plan_chunks(self.num_frames, self.ratio)


def pad_to_multiple_of_8(video: torch.Tensor) -> torch.Tensor:
    """(3, T, H, W) -> (3, T, ceil8(H), ceil8(W)), extended by edge replication."""
    h, w = video.shape[-2:]
    ph, pw = -h % 8, -w % 8
    if not (ph or pw):
        return video
    return F.pad(video[None], (0, pw, 0, ph, 0, 0), mode="replicate")[0]


def pad_chunk(frames: torch.Tensor, chunk: Chunk) -> torch.Tensor:
    """(3, real frames, H, W) -> (3, real frames + padding, H, W), repeating the last frame."""
    if not chunk.padding:
        return frames
    return torch.cat([frames, frames[:, -1:].expand(-1, chunk.padding, -1, -1)], dim=1)


def tile_cells(tile: Optional[int]) -> Optional[int]:
    """A tile size in pixels (None: automatic, 0: no tiling) -> latent cells for `ChunkDecoder`."""
    if tile is None:
        return None
    if tile < 0 or tile % 8:
        raise ValueError(f"tile must be 0 (no tiling) or a positive multiple of 8 pixels, got {tile}")
    return tile // 8 if tile else 1 << 20


def encode(model: Model, video: torch.Tensor) -> VideoLatents:
    """(3, T, H, W) float in [-1, 1], any T >= 1, any H, W -> VideoLatents with ceil(T/(k+1)) chunks."""
    if video.dim() != 4 or video.shape[0] != 3:
        raise ValueError(f"expected a video tensor (3, T, H, W), got {tuple(video.shape)}")
    _, frames, height, width = video.shape
    device = next(model.parameters()).device
    padded = pad_to_multiple_of_8(video.float())
    latents = [encode_chunk(model, pad_chunk(padded[:, c.start:c.start + c.frames], c).to(device))
               for c in plan_chunks(frames, model.ratio)]
    return VideoLatents(torch.stack([c for c, _ in latents]), torch.stack([m for _, m in latents]),
                        model.ratio, frames, height, width)


def decode(model: Model, latents: VideoLatents, times: Optional[torch.Tensor] = None, steps: int = 1,
           seed: int = 0, tile: Optional[int] = None, extension: bool = True,
           temperature: float = 1.0) -> torch.Tensor:
    """VideoLatents -> frames (3, len(times), H, W) in [-1, 1], default times 0..T-1.

    Each time is decoded from the chunk that holds it, a time between two chunks from both
    (see `timeline`); the frames of one chunk are decoded together. `steps` sampling steps
    seeded by `seed`; `tile` in pixels (None: automatic, 0: whole frames); `extension`:
    latent extension across chunks; `temperature` scales the sampling noise (0..2, 1: as trained)."""
    if latents.ratio != model.ratio:
        raise ValueError(f"latents are {latents.ratio}x but the model is {model.ratio}x")
    if times is None:
        times = torch.arange(latents.num_frames, dtype=torch.float64)
    times = torch.as_tensor(times, dtype=torch.float64).flatten()
    decoder = ChunkDecoder(model, steps, seed, tile_cells(tile), extension=extension, temperature=temperature)
    out = torch.empty(3, len(times), latents.height, latents.width)
    for i, frame in decode_times(decoder, lambda c: (latents.z_c[c], latents.z_m[c]), times.tolist(),
                                 latents.ratio, latents.z_c.shape[0]):
        out[:, i] = frame[:, :latents.height, :latents.width]
    return out
