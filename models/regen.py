"""The assembled REGEN autoencoder: encoder, latent conditioning, DiT decoder, rectified flow."""

from __future__ import annotations

from typing import Optional

import torch
from torch import nn

from .conditioning import LatentConditioning
from .config import RegenConfig
from .diffusion import RectifiedFlow, StepHook
from .dit import DiTDecoder
from .encoder import CausalEncoder
from .quantize import quantize


class Regen(nn.Module):
    """encode: chunk -> (z_c, z_m); decode: latents + real frame times -> frames; loss: training."""

    def __init__(self, config: RegenConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder = CausalEncoder(config.encoder)
        self.conditioning = LatentConditioning(config.conditioning)
        self.dit = DiTDecoder(config.dit)
        self.flow = RectifiedFlow(config.diffusion)

    @property
    def ratio(self) -> int:
        return self.config.ratio

    def encode(self, video: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, 3, T, H, W) in [-1, 1], T in {1, k+1} -> z_c, z_m (B, 8, H/8, W/8) on the 8-bit grid."""
        z_c, z_m = self.encoder(video)
        return quantize(z_c), quantize(z_m)

    def decode(self, z_c: torch.Tensor, z_m: torch.Tensor, times: torch.Tensor, noise: torch.Tensor,
               steps: int = 1, step_hook: Optional[StepHook] = None) -> torch.Tensor:
        """z_c, z_m (B, 8, h, w); times (B, T) real frame times (0..k inside the chunk);
        noise (B, 3, T, 8h, 8w) standard normal -> frames (B, 3, T, 8h, 8w) in [-1, 1]."""
        cond = self.conditioning(z_c, z_m, times)
        frames = self.flow.sample(lambda x, t: self.dit(x, t, cond), noise, steps, step_hook)
        return frames.clamp(-1, 1)

    def loss(self, video: torch.Tensor, target: torch.Tensor, target_times: torch.Tensor,
             generator: Optional[torch.Generator] = None, dit_dtype: Optional[torch.dtype] = None) -> torch.Tensor:
        """video (B, 3, T, H, W) encoder input in [-1, 1]; target (B, 3, T', H, W) frames to
        supervise at target_times (B, T') -> scalar diffusion loss. Reconstruction passes the
        chunk's own frames at 0..k; interpolation and extrapolation pass other frames and times.
        `dit_dtype` (e.g. torch.bfloat16) autocasts the DiT only; the encoder's convolutions
        and the conditioning stay float32."""
        z_c, z_m = self.encode(video)
        cond = self.conditioning(z_c, z_m, target_times)
        with torch.autocast(video.device.type, dtype=dit_dtype or torch.float32, enabled=dit_dtype is not None):
            return self.flow.loss(lambda x, t: self.dit(x, t, cond), target, generator)
