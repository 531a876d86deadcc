"""Pixel-space diffusion transformer decoder (patch 8, full spatiotemporal attention).

Tokens are 8x8 pixel patches of each frame, one per latent cell per frame, so the
conditioning tokens from `LatentConditioning` add onto them one to one. The diffusion
time enters as an embedding added to every token (the paper's figure: no adaLN). There
is no positional table: position comes only from the content-aware conditioning, so any
H, W (multiples of 8) and any number of frames work. Blocks are pre-norm with RMSNorm on
queries and keys (stable in bf16 at scale); attention goes through
`scaled_dot_product_attention`, which picks flash/memory-efficient kernels on CUDA.

With `refine_channels`, a small convolutional refinement (`refine.PixelRefinement`) follows
the un-patchifying, so neighbouring patches are no longer predicted independently.

The MLP uses the exact (erf) GELU: the tanh form differs from it by under 1e-3 but its tanh
is several times slower on CPUs (docs/benchmarks.md), and models trained with either decode
alike.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn

from .config import DiTConfig
from .refine import PixelRefinement


def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """(B,) diffusion times in [0, 1] -> (B, dim) sinusoidal features of 1000 t."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    angles = 1000.0 * t.float()[:, None] * freqs
    return torch.cat([angles.cos(), angles.sin()], dim=-1)


def normalised_logit_inputs(q: torch.Tensor, k: torch.Tensor, q_weight: torch.Tensor,
                            k_weight: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """q, k (..., d) -> q', k' with q' . k' = RMSNorm_q(q) . RMSNorm_k(k) / sqrt(d), i.e. what
    `scaled_dot_product_attention(q', k', v, scale=1)` needs to equal attention on RMS-normed
    queries and keys. Both weights go onto q' (q'_i k'_i carries q_w,i k_w,i either way) and the
    scales are one inverse norm per token (the norm accumulates in float32 whatever the dtype,
    as a reduction does in torch), so a block does one reduction and one or two multiplies
    per tensor instead of RMSNorm's float32 round trip of the whole tensor (which took a sixth
    of a CPU decode, docs/benchmarks.md). Same eps as `F.rms_norm` in float32."""
    d = q.shape[-1]
    eps = torch.finfo(torch.float32).eps

    def inverse_rms(x: torch.Tensor) -> torch.Tensor:
        sum_sq = torch.linalg.vector_norm(x, dim=-1, keepdim=True).float().square()
        return torch.rsqrt(sum_sq / d + eps).to(x.dtype)

    weight = (q_weight * k_weight * d ** -0.5).to(q.dtype)
    return q * inverse_rms(q) * weight, k * inverse_rms(k)


class Attention(nn.Module):
    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(width, 3 * width)
        self.q_norm = nn.RMSNorm(width // heads)   # their weights; applied by normalised_logit_inputs
        self.k_norm = nn.RMSNorm(width // heads)
        self.out = nn.Linear(width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, N, D) -> (B, N, D), full attention over all N tokens."""
        q, k, v = rearrange(self.qkv(x), "b n (three h d) -> three b n h d", three=3, h=self.heads)
        q, k = normalised_logit_inputs(q, k, self.q_norm.weight, self.k_norm.weight)
        y = F.scaled_dot_product_attention(*(rearrange(a, "b n h d -> b h n d") for a in (q, k, v)), scale=1.0)
        return self.out(rearrange(y, "b h n d -> b n (h d)"))


class Block(nn.Module):
    def __init__(self, config: DiTConfig) -> None:
        super().__init__()
        hidden = int(config.width * config.mlp_ratio)
        self.norm1 = nn.LayerNorm(config.width)
        self.attn = Attention(config.width, config.heads)
        self.norm2 = nn.LayerNorm(config.width)
        self.mlp = nn.Sequential(nn.Linear(config.width, hidden), nn.GELU(),
                                 nn.Linear(hidden, config.width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, N, D) -> (B, N, D)."""
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class DiTDecoder(nn.Module):
    def __init__(self, config: DiTConfig) -> None:
        super().__init__()
        self.config = config
        d, p = config.width, config.patch
        self.patch_embed = nn.Linear(config.channels * p * p, d)
        self.time_embed = nn.Sequential(nn.Linear(d, d), nn.SiLU(), nn.Linear(d, d))
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.depth))
        self.norm_out = nn.LayerNorm(d)
        self.head = nn.Linear(d, config.channels * p * p)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)
        self.refine = None
        if config.refine_channels:
            self.feature_head = nn.Linear(d, config.refine_features * p * p)
            self.refine = PixelRefinement(config.channels, config.refine_features, config.refine_channels)
        self.checkpoint_blocks = False  # activation checkpointing, set by training code for big models

    def forward(self, x_t: torch.Tensor, t: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        """x_t (B, 3, T, H, W) noisy pixels; t (B,) diffusion time in [0, 1];
        cond (B, T*h*w, D) conditioning tokens -> x0 estimate (B, 3, T, H, W), about [-1, 1]."""
        p = self.config.patch
        frames, height, width = x_t.shape[2:]
        tokens = self.patch_embed(rearrange(x_t, "b c t (h p) (w q) -> b (t h w) (c p q)", p=p, q=p))
        tokens = tokens + cond + self.time_embed(timestep_embedding(t, self.config.width).to(tokens.dtype))[:, None]
        for block in self.blocks:
            if self.checkpoint_blocks and torch.is_grad_enabled():
                tokens = torch.utils.checkpoint.checkpoint(block, tokens, use_reentrant=False)
            else:
                tokens = block(tokens)
        tokens = self.norm_out(tokens)

        def pixels(x: torch.Tensor) -> torch.Tensor:
            return rearrange(x, "b (t h w) (c p q) -> b c t (h p) (w q)", t=frames, h=height // p, w=width // p,
                             p=p, q=p)
        out = pixels(self.head(tokens))
        if self.refine is not None:
            out = self.refine(out, pixels(self.feature_head(tokens)))
        return out
