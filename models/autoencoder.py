"""What REGEN and the MAGVIT-v2 baseline share: the causal encoder and 8-bit latents."""

from __future__ import annotations

import copy
from typing import Optional

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

    def training_encode(self, video: torch.Tensor, dtype: Optional[torch.dtype]) -> tuple[torch.Tensor, torch.Tensor]:
        """`encode` with the convolution trunk under `dtype` autocast (None: float32). The output
        layers and the rounding stay float32. bf16 is stable here on CPUs that compute it
        natively (finite gradients, cosine 1.000 to float32's on trained weights, losses within
        0.5%) and makes the encoder's forward and backward 1.6x faster (docs/benchmarks.md)."""
        with torch.autocast(video.device.type, dtype=dtype or torch.float32, enabled=dtype is not None):
            return self.encode(video)

    def inference_copy(self, dtype: torch.dtype) -> "LatentAutoencoder":
        """A frozen copy whose heavy layers hold `dtype` weights (bf16 where the hardware computes
        it natively): the encoder's convolution trunk, and what `_half_modules` adds. The
        encoder's output layers, and hence the rounding to the int8 grid, stay float32."""
        clone = copy.deepcopy(self).eval().requires_grad_(False)
        for module in clone._half_modules():
            module.to(dtype)
        return clone

    def _half_modules(self) -> list[nn.Module]:
        return [self.encoder.conv_in, self.encoder.body]
