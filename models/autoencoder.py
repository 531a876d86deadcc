"""What REGEN and the MAGVIT-v2 baseline share: the causal encoder and 8-bit latents."""

from __future__ import annotations

import torch
from torch import nn

from .config import EncoderConfig
from .encoder import CausalEncoder
from .quantize import quantize


class LatentAutoencoder(nn.Module):
    """Base of `Regen` and `Magvit2`: `encode` a chunk into (z_c, z_m) on the 8-bit grid."""

    def __init__(self, encoder: EncoderConfig) -> None:
        super().__init__()
        self.encoder = CausalEncoder(encoder)

    @property
    def ratio(self) -> int:
        return self.encoder.config.ratio

    def encode(self, video: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, 3, T, H, W) in [-1, 1], T in {1, k+1} -> z_c, z_m (B, 8, H/8, W/8) on the 8-bit grid."""
        z_c, z_m = self.encoder(video)
        return quantize(z_c), quantize(z_m)
