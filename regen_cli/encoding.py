"""Encoding one chunk with a model, in spatial tiles for large frames.

The encoder is local (causal convs, per-position norms), so a large frame is encoded as
non-overlapping tiles of ENCODE_TILE latent cells, each computed from its pixels plus
ENCODE_MARGIN cells of context on every side, and the tile interiors are stitched. The
tiling depends only on the frame size, never on the device, so the same input and model
give the same latents (and `.rgl` bytes) on every run.
"""

from __future__ import annotations

import torch

from models import Model

from .tiling import plan_tiles

ENCODE_TILE = 32     # latent cells (256 px) per tile interior
ENCODE_MARGIN = 4    # latent cells (32 px) of context around each tile


@torch.inference_mode()
def encode_chunk(model: Model, clip: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(3, T, Hp, Wp) in [-1, 1] on the model's device, T in {1, k+1}, Hp, Wp multiples of 8
    -> z_c, z_m (8, Hp/8, Wp/8) float32 on the q/127 grid, on the CPU."""
    h, w = clip.shape[-2] // 8, clip.shape[-1] // 8
    if h <= ENCODE_TILE + 2 * ENCODE_MARGIN and w <= ENCODE_TILE + 2 * ENCODE_MARGIN:
        z_c, z_m = model.encode(clip[None])
        return z_c[0].float().cpu(), z_m[0].float().cpu()
    z_c = torch.empty(8, h, w)
    z_m = torch.empty(8, h, w)
    for tile in plan_tiles(h, w, ENCODE_TILE, 0):
        y0, x0 = max(tile.y0 - ENCODE_MARGIN, 0), max(tile.x0 - ENCODE_MARGIN, 0)
        y1, x1 = min(tile.y1 + ENCODE_MARGIN, h), min(tile.x1 + ENCODE_MARGIN, w)
        c, m = model.encode(clip[None, :, :, 8 * y0:8 * y1, 8 * x0:8 * x1])
        inner = (slice(None), slice(tile.y0 - y0, tile.y1 - y0), slice(tile.x0 - x0, tile.x1 - x0))
        z_c[:, tile.y0:tile.y1, tile.x0:tile.x1] = c[0][inner].float().cpu()
        z_m[:, tile.y0:tile.y1, tile.x0:tile.x1] = m[0][inner].float().cpu()
    return z_c, z_m
