"""Lossless prediction of int8 chunk latents before zstd: the `.rgl` 2.x payload codings.

Coding 0 (`RAW`): the int8 latents as they are.
Coding 1 (`MED`): the same values, made cheaper to compress, exactly reversible:
  1. in a two-frame chunk the motion latent becomes its difference from the content
     latent, z_m - z_c, wrapped to int8 (the two frames of a chunk are alike);
  2. every (frame, channel) plane p becomes the residual p - pred, wrapped to int8, where
     pred is LOCO-I's median edge detector (JPEG-LS): with L, U, UL the left, upper and
     upper-left neighbours, pred = min(L, U) if UL >= max(L, U), max(L, U) if
     UL <= min(L, U), else L + U - UL; the first row predicts from L, the first column
     from U, and the top-left value from 0.
All arithmetic is on integers modulo 256, so the same bytes give the same latents on any
machine. The writer keeps whichever coding compresses smaller, so MED can only help.
"""

from __future__ import annotations

import numpy as np

RAW, MED = 0, 1
CODINGS = (RAW, MED)


def _wrap(x: np.ndarray) -> np.ndarray:
    """int (any shape) -> int16 in [-128, 127], congruent modulo 256."""
    return ((x.astype(np.int16) + 128) & 255) - 128


def _predict(left: np.ndarray, up: np.ndarray, upleft: np.ndarray, top: np.ndarray,
             leftmost: np.ndarray) -> np.ndarray:
    """The prediction rule, the one place it is written: neighbours of any matching shapes,
    `top`/`leftmost` true in the first row/column (their out-of-plane neighbours unused)."""
    hi, lo = np.maximum(left, up), np.minimum(left, up)
    med = np.where(upleft >= hi, lo, np.where(upleft <= lo, hi, left + up - upleft))
    return np.where(top, np.where(leftmost, 0, left), np.where(leftmost, up, med))


def encode(latents: np.ndarray) -> np.ndarray:
    """int8 (frames, channels, h, w) -> int8 MED residuals of the same shape."""
    x = latents.astype(np.int16)
    if x.shape[0] == 2:
        x[1] = _wrap(x[1] - x[0])
    padded = np.pad(x, [(0, 0), (0, 0), (1, 0), (1, 0)])       # row/column -1 reads as 0
    rows, cols = np.indices(x.shape[-2:])
    pred = _predict(padded[..., 1:, :-1], padded[..., :-1, 1:], padded[..., :-1, :-1], rows == 0, cols == 0)
    return _wrap(x - pred).astype(np.int8)


def decode(residual: np.ndarray) -> np.ndarray:
    """int8 (frames, channels, h, w) MED residuals -> the int8 latents `encode` was given.

    Each anti-diagonal i + j = s depends only on the two before it, so the planes are
    rebuilt one diagonal at a time (h + w - 1 vectorised steps)."""
    r = residual.astype(np.int16)
    frames, channels, h, w = r.shape
    x = np.zeros_like(r)
    for s in range(h + w - 1):
        i = np.arange(max(0, s - w + 1), min(h - 1, s) + 1)
        j = s - i
        above, before = np.maximum(i - 1, 0), np.maximum(j - 1, 0)
        pred = _predict(x[..., i, before], x[..., above, j], x[..., above, before], i == 0, j == 0)
        x[..., i, j] = _wrap(r[..., i, j] + pred)
    if frames == 2:
        x[1] = _wrap(x[1] + x[0])
    return x.astype(np.int8)
