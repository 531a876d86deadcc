"""Conversions between uint8 frames (T, H, W, 3) and model tensors (3, T, H, W) in [-1, 1].

"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import InvalidArgument


def to_model_range(frames: np.ndarray | torch.Tensor) -> torch.Tensor:
    """uint8 (T, H, W, 3) -> float32 (3, T, H, W) in [-1, 1]."""
    x = torch.as_tensor(frames)
    if x.dtype != torch.uint8 or x.dim() != 4 or x.shape[-1] != 3:
        raise InvalidArgument(f"expected uint8 frames (T, H, W, 3), got {tuple(x.shape)} {x.dtype}")
    return x.permute(3, 0, 1, 2).float() / 127.5 - 1.0


def to_uint8(video: torch.Tensor) -> torch.Tensor:
    """float (3, T, H, W) in [-1, 1] -> uint8 (T, H, W, 3), rounded to nearest."""
    x = ((video.detach().float().clamp(-1, 1) + 1.0) * 127.5).round()
    return x.to(torch.uint8).permute(1, 2, 3, 0).contiguous()


def downscale(frame: np.ndarray, scale: float) -> np.ndarray:
    """uint8 (H, W, 3) resized by `scale` < 1 (antialiased bilinear); returned as is when scale >= 1."""
    if scale >= 1:
        return frame
    h, w = frame.shape[:2]
    x = torch.from_numpy(np.ascontiguousarray(frame)).permute(2, 0, 1)[None].float()
    y = F.interpolate(x, size=(max(1, round(h * scale)), max(1, round(w * scale))), mode="bilinear",
                      antialias=True, align_corners=False)
    return y[0].permute(1, 2, 0).round().clamp(0, 255).to(torch.uint8).numpy()


def fit_long_side(frame: np.ndarray, max_side: int) -> np.ndarray:
    """uint8 (H, W, 3) downscaled so its long side is at most `max_side`."""
    return downscale(frame, max_side / max(frame.shape[:2]))
