"""Convolutional refinement of the DiT's decoded pixels: removes the 8x8 patch grid.

The DiT's head maps each token to its own 8x8 patch with a linear layer, so neighbouring
patches are predicted separately and their seams stay visible as a grid (one block per
latent cell), most at high compression. The refinement sees across patch borders: the
head's RGB patches and `features` extra channels per pixel (a second linear head on the
same tokens) are un-patchified and go through two 3x3 convolutions per frame, whose output
is added to the RGB. The last convolution starts at zero, so a model warm-started from one
without refinement decodes exactly as before until training moves it. The feature head and
the two convolutions add about a twentieth of the small preset's arithmetic per pixel; small
convolutions run less efficiently than the DiT's matrix products on a CPU, so the decode
time grows by more than that (docs/experiments.md).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn


class PixelRefinement(nn.Module):
    def __init__(self, channels: int, features: int, hidden: int) -> None:
        super().__init__()
        self.conv_in = nn.Conv2d(channels + features, hidden, 3, padding=1, padding_mode="replicate")
        self.conv_out = nn.Conv2d(hidden, channels, 3, padding=1, padding_mode="replicate")
        nn.init.zeros_(self.conv_out.weight)
        nn.init.zeros_(self.conv_out.bias)

    def forward(self, rgb: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        """rgb (B, 3, T, H, W), features (B, F, T, H, W) -> refined rgb (B, 3, T, H, W)."""
        frames = rgb.shape[2]
        x = rearrange(torch.cat([rgb, features], dim=1), "b c t h w -> (b t) c h w")
        residual = self.conv_out(F.gelu(self.conv_in(x)))
        return rgb + rearrange(residual, "(b t) c h w -> b c t h w", t=frames)
