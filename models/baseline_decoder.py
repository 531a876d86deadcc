"""MAGVIT-v2 causal 3D-conv decoder: the deterministic baseline REGEN is compared against."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .config import BaselineDecoderConfig
from .layers import CausalConv3d, CausalUpsample, ChannelNorm, ResBlock3d, sampling_plan


class CausalConvDecoder(nn.Module):
    """Mirror of `CausalEncoder`: stages from the widest to the narrowest, with causal
    depth-to-space/time upsampling where the encoder downsampled."""

    def __init__(self, config: BaselineDecoderConfig) -> None:
        super().__init__()
        self.config = config
        chans = [config.base_channels * m for m in config.channel_mults]
        plan = sampling_plan(config.ratio, len(chans))
        extra = plan[len(chans) - 1:]
        self.conv_in = CausalConv3d(config.latent_channels, chans[-1])
        layers: list[nn.Module] = [ResBlock3d(chans[-1], chans[-1])]
        for time, space in reversed(extra):
            layers.append(CausalUpsample(chans[-1], time, space))
        previous = chans[-1]
        for stage in reversed(range(len(chans))):
            for _ in range(config.num_res_blocks):
                layers.append(ResBlock3d(previous, chans[stage]))
                previous = chans[stage]
            if stage > 0:
                time, space = plan[stage - 1]
                layers.append(CausalUpsample(previous, time, space))
        self.body = nn.Sequential(*layers)
        self.norm_out = ChannelNorm(previous)
        self.conv_out = CausalConv3d(previous, 3)

    def forward(self, latents: torch.Tensor) -> torch.Tensor:
        """(B, 8, 1 + n, h, w) in [-1, 1] -> (B, 3, 1 + k n, 8h, 8w), about [-1, 1]."""
        h = self.body(self.conv_in(latents))
        return self.conv_out(F.silu(self.norm_out(h)))
