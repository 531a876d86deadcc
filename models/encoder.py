"""MAGVIT-v2-style causal 3D-conv encoder: a chunk of k+1 frames -> (z_c, z_m)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .config import SPATIAL_FACTOR, EncoderConfig
from .layers import CausalConv3d, ChannelNorm, ResBlock3d, sampling_plan


class CausalEncoder(nn.Module):
    """Stages of causal residual blocks with strided causal convs between them.

    The output has two latent frames for a (k+1)-frame chunk: frame 0 is z_c and sees
    only input frame 0 (causality), frame 1 is z_m and sees all k+1 frames. A single
    image (one frame) gives one latent frame; it stands in for both z_c and z_m, so an
    image is decoded exactly like the first frame of a static clip would be, through the
    same conditioning path (see `conditioning.py`, first-frame replacement).
    Latents pass through tanh, so they are bounded in (-1, 1) and 8-bit storable.
    """

    def __init__(self, config: EncoderConfig) -> None:
        super().__init__()
        self.config = config
        chans = [config.base_channels * m for m in config.channel_mults]
        self.conv_in = CausalConv3d(3, chans[0])
        plan = sampling_plan(config.ratio, len(chans))
        layers: list[nn.Module] = []
        previous = chans[0]
        for stage, channels in enumerate(chans):
            for _ in range(config.num_res_blocks):
                layers.append(ResBlock3d(previous, channels))
                previous = channels
            if stage < len(chans) - 1:
                time, space = plan[stage]
                layers.append(CausalConv3d(channels, channels, time_stride=time, space_stride=space))
        for time, space in plan[len(chans) - 1:]:
            layers.append(CausalConv3d(previous, previous, time_stride=time, space_stride=space))
        layers.append(ResBlock3d(previous, previous))
        self.body = nn.Sequential(*layers)
        self.norm_out = ChannelNorm(previous)
        self.conv_out = CausalConv3d(previous, config.latent_channels)

    def forward(self, video: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, 3, T, H, W) in [-1, 1], T in {1, k+1}, H and W multiples of 8
        -> z_c, z_m, each (B, 8, H/8, W/8) in (-1, 1); for T = 1, z_m is z_c."""
        frames = video.shape[2]
        if frames not in (1, self.config.ratio + 1):
            raise ValueError(f"encoder takes 1 or {self.config.ratio + 1} frames, got {frames}")
        if video.shape[-1] % SPATIAL_FACTOR or video.shape[-2] % SPATIAL_FACTOR:
            raise ValueError(f"H and W must be multiples of {SPATIAL_FACTOR}, got {tuple(video.shape[-2:])}")
        # the trunk runs in its weights' dtype (bf16 in an inference copy) or under the caller's
        # autocast (training), the output layers in float32 always, so latents are rounded to
        # the int8 grid from float32 values
        h = self.body(self.conv_in(video.to(self.conv_in.conv.weight.dtype))).float()
        with torch.autocast(video.device.type, enabled=False):
            z = torch.tanh(self.conv_out(F.silu(self.norm_out(h))))
        if frames == 1:
            return z[:, :, 0], z[:, :, 0]
        return z[:, :, 0], z[:, :, 1]
