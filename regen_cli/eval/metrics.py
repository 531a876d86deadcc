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


def bits_per_pixel(size: int, frames: int, width: int, height: int) -> float:
    """Bits per pixel of a file of `size` bytes holding `frames` frames of width x height."""
    return 8 * size / (frames * width * height)


def _gaussian_window(size: int = 11, sigma: float = 1.5) -> np.ndarray:
    x = np.arange(size) - size // 2
    g = np.exp(-(x ** 2) / (2 * sigma ** 2))
    return g / g.sum()


def _filter(img: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Separable 'valid' Gaussian filtering of (H, W) float64."""
    k = len(g)
    rows = sum(g[i] * img[i:img.shape[0] - k + 1 + i] for i in range(k))
    return sum(g[i] * rows[:, i:rows.shape[1] - k + 1 + i] for i in range(k))


def frame_ssim(a: np.ndarray, b: np.ndarray) -> float:
    """SSIM (Wang et al. 2004: 11x11 Gaussian window, sigma 1.5, K1 0.01, K2 0.03) on the
    0-255 grid, computed per RGB channel and averaged; a, b uint8 (H, W, 3)."""
    g = _gaussian_window()
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    scores = []
    for ch in range(3):
        x, y = a[..., ch].astype(np.float64), b[..., ch].astype(np.float64)
        if min(x.shape) < len(g):
            raise ValueError("SSIM needs frames of at least 11x11 pixels")
        mx, my = _filter(x, g), _filter(y, g)
        vx, vy = _filter(x * x, g) - mx ** 2, _filter(y * y, g) - my ** 2
        cov = _filter(x * y, g) - mx * my
        s = ((2 * mx * my + c1) * (2 * cov + c2)) / ((mx ** 2 + my ** 2 + c1) * (vx + vy + c2))
        scores.append(s.mean())
    return float(np.mean(scores))


def video_ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Mean over frames of `frame_ssim`; a, b uint8 (T, H, W, 3)."""
    return float(np.mean([frame_ssim(x, y) for x, y in zip(a, b)]))


def boundary_window(ratio: int) -> int:
    """Frame steps on each side of a chunk boundary that `boundary_jump` looks at: k/8, at
    least 1, so a jump that falls a frame or two off the boundary still counts in full."""
    return max(1, ratio // 8)


def boundary_jump(frames: np.ndarray, source: np.ndarray, ratio: int, window: int | None = None) -> dict:
    """How visible chunk boundaries are: frames, source uint8 (T, H, W, 3) -> {"across_boundaries",
    "inside_chunks"}, each relative to the source (1.0 = as much change as the source).

    Change between consecutive frames is the mean absolute difference. Across boundaries:
    for each boundary, the largest change over the frame steps within `window` of it
    (default `boundary_window`; a wider one, such as the k/4 frames a cross-fade can reach,
    shows a jump moved further off the boundary), decoded over source, averaged over
    boundaries as a ratio of means (a jump spread over a few steps is still a jump). Inside
    chunks: the mean change over the other steps.
    NaN where a video has no boundary (one chunk) or no step outside the windows."""
    if frames.shape != source.shape:
        raise ValueError(f"shapes differ: {frames.shape} vs {source.shape}")
    span, reach = ratio + 1, window or boundary_window(ratio)
    decoded = np.abs(np.diff(frames.astype(np.float64), axis=0)).mean(axis=(1, 2, 3))
    original = np.abs(np.diff(source.astype(np.float64), axis=0)).mean(axis=(1, 2, 3))
    steps = len(decoded)
    boundaries = [i for i in range(steps) if (i + 1) % span == 0]      # step i goes from frame i to i + 1
    windows = [slice(max(b - reach, 0), min(b + reach + 1, steps)) for b in boundaries]
    near = np.zeros(steps, dtype=bool)
    for w in windows:
        near[w] = True

    def ratio_of_means(a: list, b: list) -> float:
        return float(np.mean(a) / np.mean(b)) if len(a) and np.mean(b) > 0 else float("nan")

    return {"across_boundaries": ratio_of_means([decoded[w].max() for w in windows], [original[w].max() for w in windows]),
            "inside_chunks": ratio_of_means(decoded[~near], original[~near])}
