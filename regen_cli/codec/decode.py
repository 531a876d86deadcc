"""Decoding chunks: spatial tiles with blended overlaps, seeded noise, and latent extension.

Tiling: the latent grid is split into overlapping tiles (`tiling.plan_tiles`); each tile
is decoded on its own and the tiles are cross-faded with linear ramps. The DiT's memory
and attention cost are then bounded by the tile, not the frame. Noise comes from
64-pixel blocks seeded by (seed, chunk, block position), so tiled and untiled decoding
start from the same noise. `temperature` scales that noise: 1 is the trained sampler;
lower values move the sample towards the decoder's mean (less generated detail).

Latent extension (supplementary 2.4, in one step): for a model whose DiT takes a context
frame (`dit.context`, trained with `--context-share`), chunk c > 0 is decoded with the
previous chunk's last decoded frame as that context, so consecutive chunks agree at the
boundary even with one sampling step from pure noise. Other models decode every chunk on
its own (the earlier SDEdit-style guidance, which overwrote an extra frame's state at every
step, made the jump larger and needed two steps: docs/experiments.md). The MAGVIT-v2 baseline decodes
whole chunks with its conv decoder (in tiles with margins) and has no extension.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from models import Magvit2, Model, Regen
from models.config import SPATIAL_FACTOR

from ..errors import InvalidArgument
from .options import DecodeOptions, uses_bf16
from .tiling import Tile, blend_weights, block_noise, plan_tiles

CPU_TILE = 8         # latent cells (64 px): the bundled models' training crop, see auto_tile
MAGVIT_TILE = 32     # latent cells (256 px) for the conv decoder (plus its margins)
MAX_CUDA_TILE = 64   # latent cells (512 px)
MAGVIT_MARGIN = 4    # latent cells of context around a conv-decoder tile


def auto_tile(model: Regen, device: torch.device, frames: int) -> int:
    """Tile side in latent cells from the device. CPU: 64 px, the size of the bundled models'
    training crops: the DiT then sees what it was trained on, and attention cost stays linear
    in the frame area (faster than larger tiles at no loss: docs/). CUDA: the largest tile up
    to 512 px whose estimated DiT activations fit in half of the free memory (attention is
    cheap there)."""
    if device.type != "cuda":
        return CPU_TILE
    free, _ = torch.cuda.mem_get_info(device)
    bytes_per_token = 2 * 16 * model.config.dit.width        # bf16, ~16 live activations of width D per token
    cells = int((0.5 * free / bytes_per_token / max(frames, 1)) ** 0.5)
    return max(8, min(MAX_CUDA_TILE, cells))


@dataclass
class _Previous:
    index: int
    frame: torch.Tensor   # (3, Hp, Wp) decoded last frame of chunk `index`


class ChunkDecoder:
    """Decodes chunks in order with resolved `DecodeOptions`; remembers the last frame of
    each for latent extension. `overlap`: tile overlap in latent cells (None: a quarter tile)."""

    def __init__(self, model: Model, options: DecodeOptions, overlap: int | None = None) -> None:
        if not options.resolved:
            raise InvalidArgument("decode options must be resolved against the file's defaults first")
        self.model = model
        self.options = options
        self.device = next(model.parameters()).device
        self.steps, self.seed = options.steps, options.seed
        self.extension = options.extension and isinstance(model, Regen) and model.config.dit.context
        self.temperature = options.temperature
        self.bf16 = uses_bf16(model, self.device)
        self.tile = options.tile_cells
        self.overlap = overlap
        self.previous: _Previous | None = None

    def _tiles(self, h: int, w: int, frames: int) -> tuple[list[Tile], int]:
        tile = self.tile or auto_tile(self.model, self.device, frames)
        if h <= tile and w <= tile:
            return [Tile(0, h, 0, w)], 0
        overlap = self.overlap if self.overlap is not None else max(2, tile // 4)
        return plan_tiles(h, w, tile, overlap), overlap

    @torch.inference_mode()
    def decode(self, index: int, z_c: torch.Tensor, z_m: torch.Tensor, times: list[float]) -> torch.Tensor:
        """z_c, z_m (C, h, w) of chunk `index`; times relative to the chunk start
        -> frames (3, len(times), 8h, 8w) float32 in [-1, 1] on the CPU."""
        if isinstance(self.model, Magvit2):
            return self._decode_magvit2(z_c, z_m, times)
        h, w = z_c.shape[-2:]
        guided = self.extension and self.previous is not None and self.previous.index == index - 1
        tiles, overlap = self._tiles(h, w, len(times))
        query = torch.tensor(list(times), dtype=torch.float32)[None].to(self.device)
        f = SPATIAL_FACTOR
        out = torch.zeros(3, len(times), f * h, f * w)
        weight = torch.zeros(f * h, f * w)
        shared = self.model.config.diffusion.shared_noise   # one draw for all of the chunk's times, as trained
        for tile in tiles:
            ys, xs = tile.pixels()
            noise = (block_noise(self.seed, index, 1, tile).expand(-1, len(times), -1, -1) if shared
                     else block_noise(self.seed, index, len(times), tile)) * self.temperature
            context = self.previous.frame[None, :, ys, xs].to(self.device) if guided else None
            cells = (slice(None), slice(tile.y0, tile.y1), slice(tile.x0, tile.x1))
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16):
                frames = self.model.decode(z_c[cells][None].to(self.device), z_m[cells][None].to(self.device),
                                           query, noise[None].to(self.device), self.steps, context)[0]
            wgt = (blend_weights(tile, h, w, overlap) if len(tiles) > 1
                   else torch.ones(f * (tile.y1 - tile.y0), f * (tile.x1 - tile.x0)))
            out[:, :, ys, xs] += frames.float().cpu() * wgt
            weight[ys, xs] += wgt
        out /= weight
        # the frame at time k is the one the next chunk extends from
        end = times.index(self.model.ratio) if self.extension and self.model.ratio in times else None
        self.previous = _Previous(index, out[:, end].clone()) if end is not None else None
        return out

    def _decode_magvit2(self, z_c: torch.Tensor, z_m: torch.Tensor, times: list[float]) -> torch.Tensor:
        k = self.model.ratio
        if any(t != int(t) or not 0 <= t <= k for t in times):
            raise InvalidArgument("the MAGVIT-v2 baseline decodes only a chunk's own frames (integer times "
                                  "0..k); interpolation and extrapolation need a REGEN model")
        h, w = z_c.shape[-2:]
        tile = self.tile or MAGVIT_TILE
        f = SPATIAL_FACTOR
        out = torch.empty(3, k + 1, f * h, f * w)
        for t in plan_tiles(h, w, tile, 0) if max(h, w) > tile + 2 * MAGVIT_MARGIN else [Tile(0, h, 0, w)]:
            y0, x0 = max(t.y0 - MAGVIT_MARGIN, 0), max(t.x0 - MAGVIT_MARGIN, 0)
            y1, x1 = min(t.y1 + MAGVIT_MARGIN, h), min(t.x1 + MAGVIT_MARGIN, w)
            cells = (slice(None), slice(y0, y1), slice(x0, x1))
            frames = self.model.decode(z_c[cells][None].to(self.device), z_m[cells][None].to(self.device))[0]
            ys, xs = t.pixels()
            out[:, :, ys, xs] = frames[:, :, f * (t.y0 - y0):f * (t.y1 - y0), f * (t.x0 - x0):f * (t.x1 - x0)].float().cpu()
        return out[:, [int(t) for t in times]]
