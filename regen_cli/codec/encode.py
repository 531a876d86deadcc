"""Encoding chunks with a model, in spatial tiles for large frames.

Frames are padded to multiples of the spatial factor (edge replication) and a short last
chunk to k+1 frames (repeating its last frame); decoding crops both back. The encoder is
local (causal convs, per-position norms), so a large frame is encoded as non-overlapping
tiles of ENCODE_TILE latent cells, each computed from its pixels plus ENCODE_MARGIN cells of
context on every side, and the tile interiors are stitched. The tiling depends only on the
frame size, never on the device, so the same input and model give the same latents (and
`.rgl` bytes) on every run of one machine. Where bf16 is native the convolution trunk runs
in bf16 (`options.inference_model`); its latents then differ from a float32 encode by one
int8 step in some values (a tenth, measured), at the same decoded PSNR (docs/benchmarks.md).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from models import LATENT_CHANNELS, SPATIAL_FACTOR, Model

from ..errors import InvalidArgument
from .chunks import Chunk, plan_chunks
from .latents import VideoLatents
from .options import inference_model
from .parallel import map_tiles
from .tiling import Tile, plan_tiles

ENCODE_TILE = 32     # latent cells (256 px) per tile interior
ENCODE_MARGIN = 4    # latent cells (32 px) of context around each tile
ENCODE_WORKERS = 2   # encoder tiles at a time on the CPU: each holds about 0.5 GB of activations


def pad_to_latent_grid(video: torch.Tensor) -> torch.Tensor:
    """(3, T, H, W) -> (3, T, Hp, Wp), Hp and Wp the next multiples of 8, by edge replication."""
    h, w = video.shape[-2:]
    ph, pw = -h % SPATIAL_FACTOR, -w % SPATIAL_FACTOR
    if not (ph or pw):
        return video
    return F.pad(video[None], (0, pw, 0, ph, 0, 0), mode="replicate")[0]


def pad_chunk(frames: torch.Tensor, chunk: Chunk) -> torch.Tensor:
    """(3, real frames, H, W) -> (3, real frames + padding, H, W), repeating the last frame."""
    if not chunk.padding:
        return frames
    return torch.cat([frames, frames[:, -1:].expand(-1, chunk.padding, -1, -1)], dim=1)


@torch.inference_mode()
def encode_chunk(model: Model, clip: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(3, T, Hp, Wp) in [-1, 1] on the model's device, T in {1, k+1}, Hp, Wp multiples of 8
    -> z_c, z_m (C, Hp/8, Wp/8) float32 on the q/127 grid, on the CPU."""
    model = inference_model(model)
    h, w = clip.shape[-2] // SPATIAL_FACTOR, clip.shape[-1] // SPATIAL_FACTOR
    if h <= ENCODE_TILE + 2 * ENCODE_MARGIN and w <= ENCODE_TILE + 2 * ENCODE_MARGIN:
        z_c, z_m = model.encode(clip[None])
        return z_c[0].float().cpu(), z_m[0].float().cpu()
    z_c = torch.empty(LATENT_CHANNELS, h, w)
    z_m = torch.empty(LATENT_CHANNELS, h, w)
    f = SPATIAL_FACTOR
    tiles = plan_tiles(h, w, ENCODE_TILE, 0)

    def encode_tile(tile: Tile) -> tuple[torch.Tensor, torch.Tensor]:
        y0, x0 = max(tile.y0 - ENCODE_MARGIN, 0), max(tile.x0 - ENCODE_MARGIN, 0)
        y1, x1 = min(tile.y1 + ENCODE_MARGIN, h), min(tile.x1 + ENCODE_MARGIN, w)
        c, m = model.encode(clip[None, :, :, f * y0:f * y1, f * x0:f * x1])
        inner = (slice(None), slice(tile.y0 - y0, tile.y1 - y0), slice(tile.x0 - x0, tile.x1 - x0))
        return c[0][inner].float().cpu(), m[0][inner].float().cpu()

    for tile, (c, m) in map_tiles(encode_tile, tiles, clip.device, max_workers=ENCODE_WORKERS):
        z_c[:, tile.y0:tile.y1, tile.x0:tile.x1] = c
        z_m[:, tile.y0:tile.y1, tile.x0:tile.x1] = m
    return z_c, z_m


@torch.inference_mode()
def encode_chunks(model: Model, clips: list[torch.Tensor]) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Several padded chunks of one shape, each (3, T, Hp, Wp) as for `encode_chunk`, in one
    encoder batch -> [(z_c, z_m)], each (C, Hp/8, Wp/8) float32 on the q/127 grid, on the CPU.
    Frames large enough to be tiled are encoded one by one (`encode_chunk`). A batch gives
    the same latents as one chunk at a time up to float rounding, which can move a latent by
    one int8 step where it lies on a rounding boundary."""
    h, w = clips[0].shape[-2] // SPATIAL_FACTOR, clips[0].shape[-1] // SPATIAL_FACTOR
    if len(clips) == 1 or h > ENCODE_TILE + 2 * ENCODE_MARGIN or w > ENCODE_TILE + 2 * ENCODE_MARGIN:
        return [encode_chunk(model, clip) for clip in clips]
    z_c, z_m = inference_model(model).encode(torch.stack(clips))
    return list(zip(z_c.float().cpu().unbind(0), z_m.float().cpu().unbind(0)))


def encode_frames(model: Model, frames: torch.Tensor, chunk: Chunk) -> tuple[torch.Tensor, torch.Tensor]:
    """The real frames of `chunk`, (3, chunk.frames, H, W) float in [-1, 1], any H and W
    -> its z_c, z_m (C, ceil(H/8), ceil(W/8)) on the q/127 grid, on the CPU."""
    device = next(model.parameters()).device
    return encode_chunk(model, pad_chunk(pad_to_latent_grid(frames.float()), chunk).to(device))


def encode_video(model: Model, video: torch.Tensor) -> VideoLatents:
    """(3, T, H, W) float in [-1, 1], any T >= 1, any H, W -> VideoLatents with ceil(T/(k+1)) chunks."""
    if video.dim() != 4 or video.shape[0] != 3:
        raise InvalidArgument(f"expected a video tensor (3, T, H, W), got {tuple(video.shape)}")
    _, num_frames, height, width = video.shape
    latents = [encode_frames(model, video[:, c.start:c.start + c.frames], c)
               for c in plan_chunks(num_frames, model.ratio)]
    return VideoLatents(torch.stack([c for c, _ in latents]), torch.stack([m for _, m in latents]),
                        model.ratio, num_frames, height, width)
