"""Latents of a whole video, and the one interface every decoder reads them through.

A latent source is anything with `ratio`, `num_frames`, `height`, `width`, `num_chunks`
and `chunk(index) -> (z_c, z_m)`: `VideoLatents` holds them in memory (the Python API),
an `.rgl` file streams them one chunk at a time (`files.common.RglLatents`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from typing import Protocol

import torch

from ..errors import InvalidArgument
from .chunks import Chunk, plan_chunks


class LatentSource(Protocol):
    ratio: int
    num_frames: int
    height: int
    width: int

    @property
    def num_chunks(self) -> int: ...

    def chunk(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(z_c, z_m), each (C, h, w) float on the q/127 grid."""


@dataclass(frozen=True)
class VideoLatents:
    """Per-chunk latents of one video."""

    z_c: torch.Tensor     # (N, C, h, w) content latents on the q/127 grid, one per chunk
    z_m: torch.Tensor     # (N, C, h, w) motion latents (equal to z_c for an image)
    ratio: int            # k
    num_frames: int       # frames of the source video
    height: int           # source height in pixels (before padding to a multiple of 8)
    width: int

    @property
    def chunks(self) -> list[Chunk]:
        return plan_chunks(self.num_frames, self.ratio)

    @property
    def num_chunks(self) -> int:
        return self.z_c.shape[0]

    def chunk(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.z_c[index], self.z_m[index]


class LatentRangeWarning(UserWarning):
    """Latents outside [-1, 1] were clamped before decoding."""


def checked_latents(latents: VideoLatents) -> VideoLatents:
    """The latents the decoder is given: float values in [-1, 1] (the encoder's tanh range; the
    encoder's own latents lie on the q/127 grid, but any float in range is accepted as is).
    Values outside [-1, 1] are clamped, with a `LatentRangeWarning` saying how many and how
    far; NaN or infinite values are refused (InvalidArgument)."""
    values = torch.stack([latents.z_c, latents.z_m]).float()
    if not torch.isfinite(values).all():
        raise InvalidArgument("latents contain NaN or infinite values")
    outside = int((values.abs() > 1).sum())
    if not outside:
        return latents
    warnings.warn(f"{outside} of {values.numel()} latent values ({100 * outside / values.numel():.3g}%) lie outside "
                  f"[-1, 1] (largest magnitude {float(values.abs().max()):.4g}) and were clamped to it",
                  LatentRangeWarning, stacklevel=3)
    return replace(latents, z_c=latents.z_c.clamp(-1, 1), z_m=latents.z_m.clamp(-1, 1))
