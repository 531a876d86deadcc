"""Latent conditioning ("content-aware positional embedding"): (z_c, z_m, frame times) -> tokens.

    C_e(x, y, t) = M_s( content(x, y, t) (+) M_t(fourier(t / k) | z_m(x, y)) )

M_t is a sine MLP (SIREN) on Fourier features of the normalised frame time tau = t / k,
FiLM-modulated at every layer by a linear map of z_m(x, y), so each latent cell carries
its own time-continuous trajectory. `content` is z_c broadcast over time, except at
frame time 0 where the SIREN's own 8-channel prediction replaces it (first-frame
replacement): the first frame of a video and a single image (whose latent stands in for
both z_c and z_m) then take the same path. M_s is a linear projection to the DiT width.
Times are real numbers in frames relative to the chunk's first frame: 0..k reconstructs,
fractions interpolate, t < 0 or t > k extrapolate. There is no other positional signal,
so any latent size works.

Design choices the paper leaves open: Fourier bands 2^j * pi (j < bands) plus tau itself;
sine layers use SIREN's hidden-layer initialisation, with the frequency scale omega from
the config (`ConditioningConfig.siren_omega`), its weights scaled by 1/omega so activations keep
SIREN's distribution; FiLM parameters start at zero (identity modulation).
"""

from __future__ import annotations

import math

import torch
from einops import rearrange
from torch import nn

from .config import ConditioningConfig


def fourier_features(tau: torch.Tensor, bands: int) -> torch.Tensor:
    """(...) real -> (..., 2 * bands + 1): [tau, sin(2^j pi tau), cos(2^j pi tau)]."""
    freqs = math.pi * 2.0 ** torch.arange(bands, device=tau.device, dtype=tau.dtype)
    angles = tau[..., None] * freqs
    return torch.cat([tau[..., None], angles.sin(), angles.cos()], dim=-1)


class ModulatedSineLayer(nn.Module):
    """y = sin(omega * (1 + gamma) * (W x + b) + beta), gamma/beta from the modulation."""

    def __init__(self, in_features: int, out_features: int, omega: float) -> None:
        super().__init__()
        self.omega = omega
        self.linear = nn.Linear(in_features, out_features)
        bound = math.sqrt(6.0 / in_features) / omega
        nn.init.uniform_(self.linear.weight, -bound, bound)
        nn.init.uniform_(self.linear.bias, -bound, bound)

    def forward(self, x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
        """x (..., F_in), gamma/beta broadcastable to (..., F_out) -> (..., F_out) in [-1, 1]."""
        return torch.sin(self.omega * (1 + gamma) * self.linear(x) + beta)


class LatentConditioning(nn.Module):
    def __init__(self, config: ConditioningConfig) -> None:
        super().__init__()
        self.config = config
        c, width = config.latent_channels, config.siren_width
        in_features = 2 * config.fourier_bands + 1
        self.layers = nn.ModuleList(
            ModulatedSineLayer(in_features if i == 0 else width, width, config.siren_omega)
            for i in range(config.siren_depth))
        self.modulation = nn.Linear(c, 2 * width * config.siren_depth)
        nn.init.zeros_(self.modulation.weight)
        nn.init.zeros_(self.modulation.bias)
        self.siren_out = nn.Linear(width, c)
        self.project = nn.Linear(2 * c, config.width)

    def forward(self, z_c: torch.Tensor, z_m: torch.Tensor, times: torch.Tensor) -> torch.Tensor:
        """z_c, z_m (B, 8, h, w) in [-1, 1]; times (B, T) real, in frames from the chunk start
        -> tokens (B, T*h*w, D), ordered (t, h, w). Always computed in float32 (sines of
        large arguments lose their phase in bf16), also inside an autocast region."""
        with torch.autocast(z_c.device.type, enabled=False):
            return self._tokens(z_c.float(), z_m.float(), times.float())

    def _tokens(self, z_c: torch.Tensor, z_m: torch.Tensor, times: torch.Tensor) -> torch.Tensor:
        tau = times / self.config.ratio
        features = rearrange(fourier_features(tau, self.config.fourier_bands), "b t f -> b t 1 1 f")
        film = rearrange(self.modulation(rearrange(z_m, "b c h w -> b h w c")),
                         "b h w (layer two f) -> layer two b 1 h w f",
                         layer=self.config.siren_depth, two=2)
        x = features
        for layer, (gamma, beta) in zip(self.layers, film):
            x = layer(x, gamma, beta)
        motion = self.siren_out(x)                                    # (B, T, h, w, 8)
        content = rearrange(z_c, "b c h w -> b 1 h w c").expand_as(motion)
        if self.config.first_frame_replacement:
            first = rearrange(times == 0, "b t -> b t 1 1 1")
            content = torch.where(first, motion, content)
        tokens = self.project(torch.cat([content, motion], dim=-1))
        return rearrange(tokens, "b t h w d -> b (t h w) d")
