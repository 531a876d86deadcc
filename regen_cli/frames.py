"""Conversions between uint8 frames (T, H, W, 3) and model tensors (3, T, H, W) in [-1, 1].

Does not import `models`.
"""

from __future__ import annotations

import numpy as np
import torch


def to_model_range(frames: np.ndarray | torch.Tensor) -> torch.Tensor:
    """uint8 (T, H, W, 3) -> float32 (3, T, H, W) in [-1, 1]."""
    x = torch.as_tensor(frames)
    if x.dtype != torch.uint8 or x.dim() != 4 or x.shape[-1] != 3:
        raise ValueError(f"expected uint8 frames (T, H, W, 3), got {tuple(x.shape)} {x.dtype}")
    return x.permute(3, 0, 1, 2).float() / 127.5 - 1.0


def to_uint8(video: torch.Tensor) -> torch.Tensor:
    """float (3, T, H, W) in [-1, 1] -> uint8 (T, H, W, 3), rounded to nearest."""
    x = ((video.detach().float().clamp(-1, 1) + 1.0) * 127.5).round()
    return x.to(torch.uint8).permute(1, 2, 3, 0).contiguous()
