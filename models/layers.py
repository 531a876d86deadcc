"""Causal 3D-conv building blocks shared by the encoder and the MAGVIT-v2 baseline decoder.

Causality: time is padded on the past side only (by repeating the first frame), so
output frame t depends on input frames <= t only. A stride-2 causal conv maps 1 + 2n
frames to 1 + n frames.

Normalisation is an RMS norm over channels at each position (as in Wan 2.1's causal
video VAE) instead of MAGVIT-v2's GroupNorm: it takes no statistics across time (strict
causality) or across the frame (so a spatial tile encodes like the same region of the
whole frame, which makes tiled encoding of large videos match untiled encoding away from
tile borders, and content elsewhere in the frame never shifts a cell's latent).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn


class CausalConv3d(nn.Module):
    """3D conv, 'same' spatial padding (replicate), past-only temporal padding."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int = 3,
                 time_stride: int = 1, space_stride: int = 1) -> None:
        super().__init__()
        self.time_pad = kernel - 1
        self.space_pad = kernel // 2
        self.conv = nn.Conv3d(in_channels, out_channels, kernel,
                              stride=(time_stride, space_stride, space_stride))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, T, H, W) -> (B, C', T', H', W'); T' = 1 + (T - 1) // time_stride."""
        p = self.space_pad
        x = F.pad(x, (p, p, p, p, self.time_pad, 0), mode="replicate")
        return self.conv(x)


class ChannelNorm(nn.Module):
    """RMS norm over channels at every (t, h, w) position, with a learned per-channel gain."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.gain = nn.Parameter(torch.ones(channels, 1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, T, H, W) -> same shape."""
        return x * torch.rsqrt(x.pow(2).mean(dim=1, keepdim=True) + 1e-6) * self.gain


class ResBlock3d(nn.Module):
    """norm -> SiLU -> causal conv, twice, with a residual (1x1x1 conv when channels change)."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.norm1 = ChannelNorm(in_channels)
        self.conv1 = CausalConv3d(in_channels, out_channels)
        self.norm2 = ChannelNorm(out_channels)
        self.conv2 = CausalConv3d(out_channels, out_channels)
        self.skip = (nn.Identity() if in_channels == out_channels
                     else nn.Conv3d(in_channels, out_channels, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, T, H, W) -> (B, C', T, H, W)."""
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        return self.skip(x) + h


class CausalUpsample(nn.Module):
    """Depth-to-space/time upsampling that keeps causality: 1 + n frames -> 1 + s_t * n.

    A causal conv produces s_t * s^2 sub-pixels per position; they are rearranged into
    time and space, and the first s_t - 1 frames (which would precede frame 0) dropped.
    """

    def __init__(self, channels: int, time_stride: int, space_stride: int) -> None:
        super().__init__()
        self.time_stride = time_stride
        self.space_stride = space_stride
        self.conv = CausalConv3d(channels, channels * time_stride * space_stride ** 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, T, H, W) -> (B, C, 1 + s_t (T - 1), s H, s W)."""
        y = rearrange(self.conv(x), "b (c st sh sw) t h w -> b c (t st) (h sh) (w sw)",
                      st=self.time_stride, sh=self.space_stride, sw=self.space_stride)
        return y[:, :, self.time_stride - 1:]


def sampling_plan(ratio: int, num_stages: int) -> list[tuple[int, int]]:
    """(time_stride, space_stride) for each resampling step of a causal encoder.

    There is one step between consecutive stages, plus time-only steps after the last
    stage when log2(ratio) exceeds the number of transitions (32x on 5 stages). The
    first three transitions halve H and W (8x in all); temporal halvings go to the
    last transitions, where features are smallest and widest.
    """
    transitions = num_stages - 1
    halvings = int(math.log2(ratio))
    if 2 ** halvings != ratio:
        raise ValueError(f"ratio must be a power of two, got {ratio}")
    in_transitions = min(halvings, transitions)
    plan = []
    for i in range(transitions):
        space = 2 if i < 3 else 1
        time = 2 if i >= transitions - in_transitions else 1
        plan.append((time, space))
    plan.extend((2, 1) for _ in range(halvings - in_transitions))
    return plan
