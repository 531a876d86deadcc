"""The MAGVIT-v2 baseline autoencoder: the REGEN encoder with a causal conv decoder."""

from __future__ import annotations

from typing import Optional

import torch
from torch import nn

from .autoencoder import LatentAutoencoder
from .baseline_decoder import CausalConvDecoder
from .config import Magvit2Config


class Magvit2(LatentAutoencoder):
    """encode: chunk -> (z_c, z_m); decode: latents -> the chunk's k+1 frames (or 1 for an image)."""

    def __init__(self, config: Magvit2Config) -> None:
        super().__init__(config.encoder)
        self.config = config
        self.decoder = CausalConvDecoder(config.decoder)

    def decode(self, z_c: torch.Tensor, z_m: torch.Tensor) -> torch.Tensor:
        """z_c, z_m (B, 8, h, w) -> (B, 3, k+1, 8h, 8w) in [-1, 1]. The decoder is causal, so
        frame 0 depends on z_c alone: an image (z_m = z_c) is frame 0 of the output."""
        z = torch.stack([z_c, z_m], dim=2).to(next(self.decoder.parameters()).dtype)
        return self.decoder(z).float().clamp(-1, 1)

    def _half_modules(self) -> list[nn.Module]:
        return super()._half_modules() + [self.decoder]

    def loss(self, video: torch.Tensor, dtype: Optional[torch.dtype] = None) -> torch.Tensor:
        """(B, 3, T, H, W) in [-1, 1], T in {1, k+1} -> scalar: MSE + L1 of the reconstruction.
        `dtype` (e.g. torch.bfloat16) autocasts the encoder's convolution trunk and the decoder."""
        z_c, z_m = self.training_encode(video, dtype)
        with torch.autocast(video.device.type, dtype=dtype or torch.float32, enabled=dtype is not None):
            recon = self.decoder(torch.stack([z_c, z_m], dim=2))[:, :, :video.shape[2]]
        err = recon.float() - video.float()
        return torch.mean(err ** 2) + torch.mean(err.abs())
