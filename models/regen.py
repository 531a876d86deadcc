"""The assembled REGEN autoencoder: encoder, latent conditioning, DiT decoder, rectified flow."""

from __future__ import annotations

from typing import Optional

import torch
from torch import nn

from .autoencoder import LatentAutoencoder
from .conditioning import LatentConditioning
from .config import RegenConfig
from .diffusion import RectifiedFlow
from .dit import DiTDecoder


class Regen(LatentAutoencoder):
    """encode: chunk -> (z_c, z_m); decode: latents + real frame times -> frames; loss: training."""

    def __init__(self, config: RegenConfig) -> None:
        super().__init__(config.encoder)
        self.config = config
        self.conditioning = LatentConditioning(config.conditioning)
        self.dit = DiTDecoder(config.dit)
        self.flow = RectifiedFlow(config.diffusion)

    def decode(self, z_c: torch.Tensor, z_m: torch.Tensor, times: torch.Tensor, noise: torch.Tensor,
               steps: int = 1) -> torch.Tensor:
        """z_c, z_m (B, 8, h, w); times (B, T) real frame times (0..k inside the chunk);
        noise (B, 3, T, 8h, 8w) standard normal (the same at every T when the config's
        `diffusion.shared_noise` is set, as in training) -> frames (B, 3, T, 8h, 8w) float32 in
        [-1, 1]. Sampling runs in the dtype of the DiT's weights (bf16 in an inference copy), the
        conditioning in float32 (sines of large arguments lose their phase in bf16)."""
        dtype = self.dit.head.weight.dtype
        cond = self.conditioning(z_c, z_m, times).to(dtype)
        frames = self.flow.sample(lambda x, t: self.dit(x, t, cond), noise.to(dtype), steps)
        return frames.float().clamp(-1, 1)

    def _half_modules(self) -> list[nn.Module]:
        return super()._half_modules() + [self.dit]

    def loss(self, video: torch.Tensor, target: torch.Tensor, target_times: torch.Tensor,
             generator: Optional[torch.Generator] = None, dtype: Optional[torch.dtype] = None) -> torch.Tensor:
        """video (B, 3, T, H, W) encoder input in [-1, 1]; target (B, 3, T', H, W) frames to
        supervise at target_times (B, T') -> scalar diffusion loss. Reconstruction passes the
        chunk's own frames at 0..k; interpolation and extrapolation pass other frames and times.
        `dtype` (e.g. torch.bfloat16) autocasts the encoder's convolution trunk and the DiT;
        the encoder's output layers (the int8 rounding) and the conditioning stay float32."""
        z_c, z_m = self.training_encode(video, dtype)
        cond = self.conditioning(z_c, z_m, target_times)
        with torch.autocast(video.device.type, dtype=dtype or torch.float32, enabled=dtype is not None):
            return self.flow.loss(lambda x, t: self.dit(x, t, cond), target, generator)
