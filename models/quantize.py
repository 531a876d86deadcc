"""8-bit latent quantisation, used identically in training and storage.

Latents live in (-1, 1) (tanh). They are rounded to the 255-level grid q / 127,
q in [-127, 127]. Training uses the same rounding with a straight-through gradient, so
the decoder only ever sees grid values and int8 storage loses nothing.
"""

from __future__ import annotations

import torch

LEVELS = 127


def quantize(z: torch.Tensor) -> torch.Tensor:
    """(any) in [-1, 1] -> same shape on the q/127 grid; gradient passes straight through."""
    q = torch.round(z.clamp(-1, 1) * LEVELS) / LEVELS
    return z + (q - z).detach()


def to_int8(z: torch.Tensor) -> torch.Tensor:
    """(any) in [-1, 1] -> int8 in [-127, 127]."""
    return torch.round(z.detach().clamp(-1, 1) * LEVELS).to(torch.int8)


def from_int8(q: torch.Tensor) -> torch.Tensor:
    """int8 in [-127, 127] -> float32 on the q/127 grid (exactly what `quantize` gives)."""
    return q.to(torch.float32) / LEVELS
