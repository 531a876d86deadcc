"""Quality metrics on uint8 frames. Does not import `models`.

PSNR: per frame on the 0-255 grid in float64, averaged over frames (DESIGN's protocol).
"""

from __future__ import annotations

import math

import numpy as np


def frame_psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB of two uint8 frames (H, W, 3); inf when identical."""
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return math.inf if mse == 0 else 10 * math.log10(255.0 ** 2 / mse)


def video_psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Mean over frames of the per-frame PSNR; a, b uint8 (T, H, W, 3). Identical frames count as 100 dB."""
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} vs {b.shape}")
    return float(np.mean([min(frame_psnr(x, y), 100.0) for x, y in zip(a, b)]))
