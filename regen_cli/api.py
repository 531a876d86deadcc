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
from typing import Optional, Sequence

import torch
import torch.nn.functional as F

from models import Magvit2, Model, Regen
from models.config import SPATIAL_FACTOR

from .chunking import Chunk, chunk_for_time, plan_chunks


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


def _pad_to_multiple(video: torch.Tensor) -> torch.Tensor:
    h, w = video.shape[-2:]
    ph, pw = -h % SPATIAL_FACTOR, -w % SPATIAL_FACTOR
    if not (ph or pw):
        return video
    return F.pad(video[None], (0, pw, 0, ph, 0, 0), mode="replicate")[0]


def _chunk_noise(seed: int, chunk: int, shape: Sequence[int]) -> torch.Tensor:
    """Standard normal noise for one chunk, reproducible on any device and batching."""
    generator = torch.Generator().manual_seed(seed * 1_000_003 + chunk)
    return torch.randn(tuple(shape), generator=generator)


def _param_device(model: Model) -> torch.device:
    return next(model.parameters()).device


@torch.inference_mode()
def encode(model: Model, video: torch.Tensor) -> VideoLatents:
    """(3, T, H, W) float in [-1, 1], any T >= 1, any H, W -> VideoLatents with ceil(T/(k+1)) chunks."""
    if video.dim() != 4 or video.shape[0] != 3:
        raise ValueError(f"expected a video tensor (3, T, H, W), got {tuple(video.shape)}")
    _, frames, height, width = video.shape
    device = _param_device(model)
    padded = _pad_to_multiple(video.float())
    z_c, z_m = [], []
    for chunk in plan_chunks(frames, model.ratio):
        clip = padded[:, chunk.start:chunk.start + chunk.frames]
        if chunk.padding:
            clip = torch.cat([clip, clip[:, -1:].expand(-1, chunk.padding, -1, -1)], dim=1)
        c, m = model.encode(clip[None].to(device))
        z_c.append(c[0].float().cpu())
        z_m.append(m[0].float().cpu())
    return VideoLatents(torch.stack(z_c), torch.stack(z_m), model.ratio, frames, height, width)


@torch.inference_mode()
def decode(model: Model, latents: VideoLatents, times: Optional[torch.Tensor] = None,
           steps: int = 1, seed: int = 0) -> torch.Tensor:
    """VideoLatents -> frames (3, len(times), H, W) in [-1, 1], default times 0..T-1.

    Each time is decoded from the chunk that holds it (see `chunk_for_time`); frames of one
    chunk are decoded together so they share attention. `steps` sampling steps, seeded
    by `seed` (the same seed gives the same frames)."""
    if latents.ratio != model.ratio:
        raise ValueError(f"latents are {latents.ratio}x but the model is {model.ratio}x")
    if times is None:
        times = torch.arange(latents.num_frames, dtype=torch.float64)
    times = torch.as_tensor(times, dtype=torch.float64).flatten()
    device = _param_device(model)
    hp = latents.z_c.shape[-2] * SPATIAL_FACTOR
    wp = latents.z_c.shape[-1] * SPATIAL_FACTOR
    out = torch.empty(3, len(times), latents.height, latents.width)
    by_chunk: dict[int, list[tuple[int, float]]] = {}
    for i, t in enumerate(times.tolist()):
        index, local = chunk_for_time(t, latents.ratio, latents.z_c.shape[0])
        by_chunk.setdefault(index, []).append((i, local))
    for index, items in sorted(by_chunk.items()):
        positions = [i for i, _ in items]
        local = torch.tensor([t for _, t in items], dtype=torch.float32)
        z_c = latents.z_c[index:index + 1].to(device)
        z_m = latents.z_m[index:index + 1].to(device)
        if isinstance(model, Regen):
            noise = _chunk_noise(seed, index, (1, 3, len(local), hp, wp)).to(device)
            frames = model.decode(z_c, z_m, local[None].to(device), noise, steps)[0]
        elif isinstance(model, Magvit2):
            frames = _magvit2_frames(model, z_c, z_m, local)
        else:
            raise TypeError(f"not a regen model: {type(model).__name__}")
        out[:, positions] = frames[:, :, :latents.height, :latents.width].float().cpu()
    return out


def _magvit2_frames(model: Magvit2, z_c: torch.Tensor, z_m: torch.Tensor, local: torch.Tensor) -> torch.Tensor:
    whole = local.round()
    if not torch.equal(whole, local) or local.min() < 0 or local.max() > model.ratio:
        raise ValueError("the MAGVIT-v2 baseline decodes only a chunk's own frames (integer times 0..k); "
                         "interpolation and extrapolation need a REGEN model")
    return model.decode(z_c, z_m)[0][:, whole.long()]
