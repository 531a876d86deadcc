"""Issue 7's quality protocol for interpolation and extrapolation, on held-out real frames.

- Interpolation: drop every other frame, interpolate x2 from the kept ones and compare the
  rebuilt in-between frames with the dropped originals. Baselines on the same frames:
  decode-then-average (decode the kept frames, average each pair of decoded neighbours:
  same compression loss) and lossless averaging (average the original neighbours).
- Extrapolation: hold out the last (first) `horizon` frames, predict them with `future`
  (`past`) from the rest, and compare per frame with the originals. Baseline: copy the
  nearest decoded frame of the video.

Frames are uint8 (T, H, W, 3); PSNR is per frame, averaged (metrics.frame_psnr).
"""

from __future__ import annotations

import numpy as np

from models import Model

from .api import decode, encode
from .frames import to_model_range, to_uint8
from .metrics import frame_psnr
from .temporal import extrapolate, interpolate


def _psnr(a: np.ndarray, b: np.ndarray) -> list[float]:
    return [min(frame_psnr(x, y), 100.0) for x, y in zip(a, b)]


def _average(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return ((a.astype(np.uint16) + b.astype(np.uint16) + 1) // 2).astype(np.uint8)


def interpolation_quality(model: Model, frames: np.ndarray, steps: int = 1, seed: int = 0) -> dict:
    """frames uint8 (T, H, W, 3), T >= 3 (an even T drops its last frame) -> mean PSNR (dB) of
    the dropped frames rebuilt by x2 interpolation and by the two baselines."""
    frames = frames[:len(frames) - (1 - len(frames) % 2)]
    kept, dropped = frames[0::2], frames[1::2]
    latents = encode(model, to_model_range(kept))
    rebuilt = to_uint8(interpolate(model, latents, 2, steps, seed)).numpy()[1::2]
    decoded = to_uint8(decode(model, latents, steps=steps, seed=seed)).numpy()
    scores = {"interpolated": _psnr(rebuilt, dropped),
              "decode_then_average": _psnr(_average(decoded[:-1], decoded[1:]), dropped),
              "lossless_average": _psnr(_average(kept[:-1], kept[1:]), dropped),
              "decoded_kept_frames": _psnr(decoded, kept)}
    return {"dropped_frames": len(dropped), **{k: float(np.mean(v)) for k, v in scores.items()}}


def extrapolation_quality(model: Model, frames: np.ndarray, horizon: int = 8, steps: int = 1,
                          seed: int = 0) -> dict:
    """frames uint8 (T, H, W, 3), T > horizon -> per-distance PSNR (dB, index 0 = the frame next
    to the video) of `horizon` predicted frames forward and backward, and of copying the nearest
    decoded frame."""
    result = {}
    for direction in ("forward", "backward"):
        context, truth = ((frames[:-horizon], frames[-horizon:]) if direction == "forward"
                          else (frames[horizon:], frames[:horizon]))
        latents = encode(model, to_model_range(context))
        if direction == "forward":
            _, video, new = extrapolate(model, latents, future=horizon, steps=steps, seed=seed)
            nearest = to_uint8(video[:, -1:]).numpy()[0]
            predicted, truth_by_distance = to_uint8(new).numpy(), truth
        else:
            new, video, _ = extrapolate(model, latents, past=horizon, steps=steps, seed=seed)
            nearest = to_uint8(video[:, :1]).numpy()[0]
            predicted, truth_by_distance = to_uint8(new).numpy()[::-1], truth[::-1]
        result[direction] = {
            "predicted": _psnr(predicted, truth_by_distance),
            "copy_nearest_decoded": _psnr(np.broadcast_to(nearest, truth.shape), truth_by_distance)}
    return result
