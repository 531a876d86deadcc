"""Rectified-flow diffusion with x0 prediction: training loss and a seeded Euler sampler.

Model-agnostic: every function takes the denoiser as a callable
`denoise(x_t, t) -> x0_hat` and never imports a network.

    x_t = (1 - t) * x0 + t * noise,   t in [0, 1] (t = 1 is pure noise)

Sampling walks t from 1 to 0 in `steps` uniform Euler steps on the flow; with an x0
predictor an Euler step from t to s is x_s = x0_hat + (s / t) * (x_t - x0_hat), so the
single-step sample is exactly the denoiser's x0 estimate from pure noise: one step gives
a reconstruction by construction. All randomness comes from tensors or generators the
caller passes in, so a seed reproduces a sample exactly.
"""

from __future__ import annotations

from typing import Callable, Optional

import torch

from .config import DiffusionConfig

Denoiser = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


class RectifiedFlow:
    def __init__(self, config: DiffusionConfig) -> None:
        self.config = config

    def sample_times(self, batch: int, generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """(batch,) training times in (0, 1]: t = 1 with prob. terminal_fraction, else logit-normal."""
        c = self.config
        device = generator.device if generator is not None else None
        logit = torch.randn(batch, generator=generator, device=device) * c.logit_std + c.logit_mean
        terminal = torch.rand(batch, generator=generator, device=device) < c.terminal_fraction
        return torch.where(terminal, torch.ones_like(logit), torch.sigmoid(logit))

    @staticmethod
    def add_noise(x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """x0, noise (B, ...); t (B,) -> x_t (B, ...)."""
        t = t.reshape(-1, *([1] * (x0.dim() - 1))).to(x0)
        return (1 - t) * x0 + t * noise

    def loss(self, denoise: Denoiser, x0: torch.Tensor,
             generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """Mean squared error of the x0 estimate at random times; x0 (B, C, T, H, W) in [-1, 1] -> scalar
        (with `shared_noise`, one noise draw (B, C, 1, H, W) serves all T frames).
        Times and noise are drawn from `generator` on its own device (CUDA generators stay on the GPU)."""
        t = self.sample_times(x0.shape[0], generator).to(x0.device)
        shape = (*x0.shape[:2], 1, *x0.shape[3:]) if self.config.shared_noise else x0.shape
        noise = torch.randn(shape, generator=generator,
                            device=generator.device if generator is not None else x0.device).to(x0)
        noise = noise.expand_as(x0)
        x0_hat = denoise(self.add_noise(x0, noise, t), t)
        return torch.mean((x0_hat.float() - x0.float()) ** 2)

    @staticmethod
    def sample(denoise: Denoiser, noise: torch.Tensor, steps: int = 1) -> torch.Tensor:
        """Euler sampling from t = 1 to 0. noise (B, ...) standard normal -> x0 sample (B, ...)."""
        if steps < 1:
            raise ValueError(f"steps must be >= 1, got {steps}")
        x = noise
        times = torch.linspace(1.0, 0.0, steps + 1).tolist()
        for i in range(steps):
            t, s = times[i], times[i + 1]
            x0_hat = denoise(x, torch.full((x.shape[0],), t, device=x.device))
            x = x0_hat + (s / t) * (x - x0_hat)
        return x
