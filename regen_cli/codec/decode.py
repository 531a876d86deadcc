"""Decoding chunks: spatial tiles with blended overlaps, and seeded noise.

Tiling: the latent grid is split into overlapping tiles (`tiling.plan_tiles`); each tile
is decoded on its own and the tiles are cross-faded with linear ramps. The DiT's memory
and attention cost are then bounded by the tile, not the frame. On the CPU the tiles run
side by side, one per torch thread (`parallel.map_tiles`). Noise comes from
64-pixel blocks seeded by (seed, chunk, block position), so tiled and untiled decoding
start from the same noise. A model trained with shared noise (one noise image for all of a
clip's frame times) gets one noise image for the whole video: generated texture then stays
put across chunk boundaries too (it lowered the boundary jump on all three validation
clips, docs/experiments.md). `temperature` scales that noise: 1 is the trained sampler;
lower values move the sample towards the decoder's mean (less generated detail).

Latent extension (seamless chunk boundaries) is a matter of which times each chunk
decodes: `timeline` asks both chunks of a boundary for the frames around it and cross-fades
them. The MAGVIT-v2 baseline decodes whole chunks with its conv decoder (in tiles with
margins) and has no extension: it decodes only a chunk's own frames.
"""

from __future__ import annotations

import torch

from models import Magvit2, Model, Regen
from models.config import SPATIAL_FACTOR

from ..errors import InvalidArgument
from .options import DecodeOptions, inference_model
from .parallel import map_tiles
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


class ChunkDecoder:
    """Decodes chunks with resolved `DecodeOptions`. `extension`: whether `timeline` may ask
    chunks for frames around their boundaries (a REGEN model and the options allow it).
    `overlap`: tile overlap in latent cells (None: a quarter tile)."""

    def __init__(self, model: Model, options: DecodeOptions, overlap: int | None = None) -> None:
        if not options.resolved:
            raise InvalidArgument("decode options must be resolved against the file's defaults first")
        self.model = inference_model(model)
        self.options = options
        self.device = next(model.parameters()).device
        self.steps, self.seed = options.steps, options.seed
        self.extension = options.extension and isinstance(model, Regen)
        self.temperature = options.temperature
        self.tile = options.tile_cells
        self.overlap = overlap

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
        tiles, overlap = self._tiles(h, w, len(times))
        query = torch.tensor(list(times), dtype=torch.float32)[None].to(self.device)
        shared = self.model.config.diffusion.shared_noise

        def decode_tile(tile: Tile) -> torch.Tensor:
            noise = (block_noise(self.seed, 0, 1, tile).expand(-1, len(times), -1, -1) if shared
                     else block_noise(self.seed, index, len(times), tile)) * self.temperature
            cells = (slice(None), slice(tile.y0, tile.y1), slice(tile.x0, tile.x1))
            return self.model.decode(z_c[cells][None].to(self.device), z_m[cells][None].to(self.device),
                                     query, noise[None].to(self.device), self.steps)[0].float().cpu()

        f = SPATIAL_FACTOR
        out = torch.zeros(3, len(times), f * h, f * w)
        weight = torch.zeros(f * h, f * w)
        for tile, frames in map_tiles(decode_tile, tiles, self.device):
            ys, xs = tile.pixels()
            wgt = (blend_weights(tile, h, w, overlap) if len(tiles) > 1
                   else torch.ones(f * (tile.y1 - tile.y0), f * (tile.x1 - tile.x0)))
            out[:, :, ys, xs] += frames * wgt
            weight[ys, xs] += wgt
        out /= weight
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
        tiles = plan_tiles(h, w, tile, 0) if max(h, w) > tile + 2 * MAGVIT_MARGIN else [Tile(0, h, 0, w)]

        def decode_tile(t: Tile) -> torch.Tensor:
            y0, x0 = max(t.y0 - MAGVIT_MARGIN, 0), max(t.x0 - MAGVIT_MARGIN, 0)
            y1, x1 = min(t.y1 + MAGVIT_MARGIN, h), min(t.x1 + MAGVIT_MARGIN, w)
            cells = (slice(None), slice(y0, y1), slice(x0, x1))
            frames = self.model.decode(z_c[cells][None].to(self.device), z_m[cells][None].to(self.device))[0]
            return frames[:, :, f * (t.y0 - y0):f * (t.y1 - y0), f * (t.x0 - x0):f * (t.x1 - x0)].float().cpu()

        for t, frames in map_tiles(decode_tile, tiles, self.device):
            ys, xs = t.pixels()
            out[:, :, ys, xs] = frames
        return out[:, [int(t) for t in times]]
