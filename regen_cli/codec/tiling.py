"""Spatial tiling: tile plans, blending weights, and seeded noise that does not depend on tiling.

All coordinates are in latent cells (SPATIAL_FACTOR x SPATIAL_FACTOR pixels).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import torch

from models.config import SPATIAL_FACTOR

from ..errors import InvalidArgument

NOISE_BLOCK = 8   # latent cells per side of one independently seeded noise block (64 px)


@dataclass(frozen=True)
class Tile:
    y0: int
    y1: int
    x0: int
    x1: int

    def pixels(self) -> tuple[slice, slice]:
        f = SPATIAL_FACTOR
        return slice(f * self.y0, f * self.y1), slice(f * self.x0, f * self.x1)


def _starts(size: int, tile: int, overlap: int) -> list[int]:
    if size <= tile:
        return [0]
    stride = tile - overlap
    starts = list(range(0, size - tile, stride))
    return starts + [size - tile]


def plan_tiles(height: int, width: int, tile: int, overlap: int) -> list[Tile]:
    """Tiles of at most `tile` x `tile` cells covering height x width, neighbours overlapping
    by at least `overlap` cells (the last row/column is aligned to the edge)."""
    if tile <= overlap:
        raise InvalidArgument("tile must be larger than the overlap")
    return [Tile(y, min(y + tile, height), x, min(x + tile, width))
            for y in _starts(height, tile, overlap) for x in _starts(width, tile, overlap)]


def blend_weights(tile: Tile, height: int, width: int, overlap: int) -> torch.Tensor:
    """(8 th, 8 tw) weights: linear ramps over `overlap` cells on sides that have a neighbour."""
    f = SPATIAL_FACTOR

    def ramp(start: int, stop: int, size: int) -> torch.Tensor:
        n = f * (stop - start)
        w = torch.ones(n)
        r = min(f * overlap, n)
        up = (torch.arange(r) + 0.5) / r
        if start > 0:
            w[:r] = torch.minimum(w[:r], up)
        if stop < size:
            w[n - r:] = torch.minimum(w[n - r:], up.flip(0))
        return w
    return ramp(tile.y0, tile.y1, height)[:, None] * ramp(tile.x0, tile.x1, width)[None, :]


def _block_seed(*parts: int) -> int:
    digest = hashlib.sha256(":".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "little") & ((1 << 63) - 1)


def block_noise(seed: int, chunk: int, frames: int, tile: Tile) -> torch.Tensor:
    """Standard normal noise (3, frames, 8 th, 8 tw) for the pixels of `tile`, assembled from
    64x64-pixel blocks each seeded by (seed, chunk, frames, block row, block column), so every
    tiling (and no tiling) sees the same noise at the same pixel."""
    f, b = SPATIAL_FACTOR, NOISE_BLOCK
    out = torch.empty(3, frames, f * (tile.y1 - tile.y0), f * (tile.x1 - tile.x0))
    for by in range(tile.y0 // b, (tile.y1 - 1) // b + 1):
        for bx in range(tile.x0 // b, (tile.x1 - 1) // b + 1):
            gen = torch.Generator().manual_seed(_block_seed(seed, chunk, frames, by, bx))
            block = torch.randn(3, frames, f * b, f * b, generator=gen)
            y0, y1 = max(tile.y0, by * b), min(tile.y1, (by + 1) * b)
            x0, x1 = max(tile.x0, bx * b), min(tile.x1, (bx + 1) * b)
            out[:, :, f * (y0 - tile.y0):f * (y1 - tile.y0), f * (x0 - tile.x0):f * (x1 - tile.x0)] = \
                block[:, :, f * (y0 - by * b):f * (y1 - by * b), f * (x0 - bx * b):f * (x1 - bx * b)]
    return out
