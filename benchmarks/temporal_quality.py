"""The quality protocol for interpolation and extrapolation, on held-out real frames.

- Interpolation: keep every F-th frame (F = 2 by default: drop every other frame), interpolate
  xF from the kept ones and compare the rebuilt in-between frames with the dropped originals.
  Baselines on the same frames: decode-then-average (decode the kept frames and blend each pair
  of decoded neighbours, weighted by time distance; for F = 2 their average: same compression
  loss) and lossless averaging (the same blend of the original neighbours).
- Extrapolation: hold out the last (first) `horizon` frames, predict them with `future`
  (`past`) from the rest, and compare per frame with the originals. Baseline: copy the
  nearest decoded frame of the video.

Frames are uint8 (T, H, W, 3); PSNR is per frame, averaged (metrics.frame_psnr).
"""

from __future__ import annotations

import functools

import numpy as np

from models import Model

from regen_cli.api import decode, encode, extrapolate, interpolate
from regen_cli.eval.metrics import frame_psnr
from regen_cli.io.frames import to_model_range, to_uint8


def _psnr(a: np.ndarray, b: np.ndarray) -> list[float]:
    return [min(frame_psnr(x, y), 100.0) for x, y in zip(a, b)]


def _blend(a: np.ndarray, b: np.ndarray, w: float) -> np.ndarray:
    """(1 - w) * a + w * b of uint8 frames, rounded half up; w = 1/2 is the rounded average."""
    return np.floor((1 - w) * a.astype(np.float64) + w * b.astype(np.float64) + 0.5).astype(np.uint8)


def interpolation_quality(model: Model, frames: np.ndarray, steps: int = 1, seed: int = 0,
                          factor: int = 2, temperature: float = 1.0) -> dict:
    """frames uint8 (T, H, W, 3), T >= factor + 1 (trailing frames past the last kept one are
    dropped) -> mean PSNR (dB) of the dropped frames rebuilt by x`factor` interpolation and by
    the two baselines, plus the PSNR of the decoded kept frames."""
    if factor < 2 or len(frames) < factor + 1:
        raise ValueError(f"need factor >= 2 and at least factor + 1 frames, got {factor} and {len(frames)}")
    frames = frames[:(len(frames) - 1) // factor * factor + 1]
    kept = frames[0::factor]
    latents = encode(model, to_model_range(kept))
    between = [i for i in range(len(frames)) if i % factor]
    rebuilt = to_uint8(interpolate(model, latents, factor, steps, seed, temperature=temperature)).numpy()[between]
    decoded = to_uint8(decode(model, latents, steps=steps, seed=seed, temperature=temperature)).numpy()

    def blended(source: np.ndarray) -> np.ndarray:
        return np.stack([_blend(source[i // factor], source[i // factor + 1], (i % factor) / factor)
                         for i in between])

    dropped = frames[between]
    scores = {"interpolated": _psnr(rebuilt, dropped),
              "decode_then_average": _psnr(blended(decoded), dropped),
              "lossless_average": _psnr(blended(kept), dropped),
              "decoded_kept_frames": _psnr(decoded, kept)}
    return {"factor": factor, "dropped_frames": len(dropped), **{k: float(np.mean(v)) for k, v in scores.items()}}


def _extrapolate_one_way(model: Model, context: np.ndarray, truth: np.ndarray, forward: bool, steps: int,
                         seed: int, temperature: float, with_tail: bool = False) -> dict:
    """PSNR by distance (index 0 = next to the video) of the frames predicted beyond `context`
    against `truth` (in time order), and of copying the nearest decoded frame."""
    horizon = len(truth)
    latents = encode(model, to_model_range(context))
    if forward:
        tail = to_model_range(context[-(model.ratio + 1):]) if with_tail else None
        _, video, new = extrapolate(model, latents, future=horizon, steps=steps, seed=seed, tail=tail,
                                    temperature=temperature)
        nearest, predicted, by_distance = video[:, -1], to_uint8(new).numpy(), truth
    else:
        new, video, _ = extrapolate(model, latents, past=horizon, steps=steps, seed=seed, temperature=temperature)
        nearest, predicted, by_distance = video[:, 0], to_uint8(new).numpy()[::-1], truth[::-1]
    nearest = to_uint8(nearest[:, None]).numpy()[0]
    return {"predicted": _psnr(predicted, by_distance),
            "copy_nearest_decoded": _psnr(np.broadcast_to(nearest, truth.shape), by_distance)}


def extrapolation_quality(model: Model, frames: np.ndarray, horizon: int = 8, steps: int = 1,
                          seed: int = 0, temperature: float = 1.0) -> dict:
    """frames uint8 (T, H, W, 3), T > horizon -> per-distance PSNR (dB, index 0 = the frame next
    to the video) of `horizon` predicted frames and of copying the nearest decoded frame:
    - backward: the first `horizon` frames predicted from the rest (whose first chunk is full
      when the rest has at least k+1 frames);
    - forward: the last `horizon` frames predicted from the rest, its start trimmed so that its
      last chunk is full (prediction starts from the source's own latents);
    - when trimming was needed, from the untrimmed rest, whose last chunk is partial:
      forward_partial_last_chunk as from a video (the prediction starts from the latents of its
      last k+1 source frames: what `regen extrapolate clip.mp4` does) and
      forward_partial_last_chunk_rgl as from an .rgl file (from re-encoded decoded frames)."""
    k = model.ratio
    context, truth = frames[:-horizon], frames[-horizon:]
    one_way = functools.partial(_extrapolate_one_way, model, steps=steps, seed=seed, temperature=temperature)
    result = {"backward": one_way(frames[horizon:], frames[:horizon], False)}
    trim = len(context) % (k + 1) if len(context) > k + 1 else 0
    result["forward"] = one_way(context[trim:], truth, True)
    if trim:
        result["forward_partial_last_chunk"] = one_way(context, truth, True, with_tail=True)
        result["forward_partial_last_chunk_rgl"] = one_way(context, truth, True)
    return result
