"""`regen eval`: encode and decode videos with a model and measure them (the quality protocol).

Per video: PSNR per frame on the 0-255 grid in float64 averaged over frames; SSIM per frame
(RGB channels averaged); bits per pixel from the real `.rgl` bytes; encode and decode frames
per second. Aggregates average over videos. Sources larger than `max_side` on the long side
are first downscaled (lossless FFV1 intermediate) and the downscaled frames are the
reference. rFVD over 16-frame clips when an I3D TorchScript file is given.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from pathlib import Path
from typing import Iterator

import numpy as np
import torch

from ..codec.decode import ChunkDecoder
from ..codec.options import DecodeDefaults, DecodeOptions
from ..files.common import RglLatents, model_for_file, resolve_for_file
from ..files.decode import decoded_frames
from ..files.encode import encode_file
from ..io.container import RglReader
from ..io.frames import fit_long_side, to_model_range
from ..io.video import VideoReader, VideoWriter
from ..io.zoo import ModelRef
from .fvd import I3DFeatures, frechet_distance
from .metrics import bits_per_pixel, frame_psnr, frame_ssim

FVD_CLIP = 16


def _fit(frame: np.ndarray, max_side: int, crop: int | None) -> np.ndarray:
    frame = fit_long_side(frame, max_side)
    if crop:
        h, w = frame.shape[:2]
        y, x = max(0, (h - crop) // 2), max(0, (w - crop) // 2)
        frame = frame[y:y + crop, x:x + crop]
    return frame


def reference_copy(src: Path, tmp: Path, max_side: int, max_frames: int | None, crop: int | None,
                   name: str = "reference.mkv") -> Path:
    """A lossless copy of `src` in the folder `tmp`, downscaled to `max_side`, centre-cropped
    to `crop` (a square side, or the whole frame where smaller) and cut to `max_frames`."""
    ref = tmp / name
    with VideoReader(src) as reader:
        frames = reader.frames()
        first = _fit(next(frames), max_side, crop)
        with VideoWriter(ref, first.shape[1], first.shape[0], reader.info.fps) as writer:
            writer.write(first)
            for i, frame in enumerate(frames, start=1):
                if max_frames is not None and i >= max_frames:
                    break
                writer.write(_fit(frame, max_side, crop))
    return ref


@contextlib.contextmanager
def rgl_frames(rgl: Path, ref_model: ModelRef, device: torch.device, options: DecodeOptions
               ) -> Iterator[Iterator[np.ndarray]]:
    """with rgl_frames(...) as frames: every frame of the .rgl `rgl` encoded with `ref_model`,
    decoded as `regen decode` would, uint8 (H, W, 3); the model is loaded on entering."""
    with RglReader(rgl) as reader:
        model = model_for_file(reader.header, str(ref_model.path), device)
        decoder = ChunkDecoder(model, resolve_for_file(options, reader.header))
        yield decoded_frames(RglLatents(reader), decoder)


def evaluate_video(src: Path, ref_model: ModelRef, device: torch.device, options: DecodeOptions, max_side: int,
                   max_frames: int | None, i3d: I3DFeatures | None, crop: int | None
                   ) -> tuple[dict, tuple[np.ndarray, np.ndarray] | None]:
    with tempfile.TemporaryDirectory() as tmp:
        reference = reference_copy(src, Path(tmp), max_side, max_frames, crop)
        rgl = Path(tmp) / "x.rgl"
        t0 = time.perf_counter()
        encoded = encode_file(reference, rgl, ref_model, device, True, True)
        encode_s = time.perf_counter() - t0
        psnr, ssim, decode_s = [], [], 0.0
        real_clips, fake_clips, real_buf, fake_buf = [], [], [], []
        with rgl_frames(rgl, ref_model, device, options) as frames, VideoReader(reference) as source:
            for original in source.frames():
                t1 = time.perf_counter()
                out = next(frames)
                decode_s += time.perf_counter() - t1
                psnr.append(min(frame_psnr(out, original), 100.0))
                ssim.append(frame_ssim(out, original))
                if i3d is not None:
                    real_buf.append(original)
                    fake_buf.append(out)
                    if len(real_buf) == FVD_CLIP:
                        real_clips.append(to_model_range(np.stack(real_buf)))
                        fake_clips.append(to_model_range(np.stack(fake_buf)))
                        real_buf, fake_buf = [], []
        size = rgl.stat().st_size
        h, w = original.shape[:2]
    n = len(psnr)
    result = {"video": str(src), "frames": n, "width": w, "height": h, "psnr": float(np.mean(psnr)),
              "ssim": float(np.mean(ssim)), "bytes": size, "bpp": bits_per_pixel(size, n, w, h),
              "encode_fps": n / encode_s, "decode_fps": n / decode_s, "chunks": encoded["chunks"]}
    features = None
    if i3d is not None and real_clips:
        features = (i3d(torch.stack(real_clips)), i3d(torch.stack(fake_clips)))
    return result, features


def evaluate(videos: list[Path], ref_model: ModelRef, device: torch.device, options: DecodeOptions = DecodeOptions(),
             max_side: int = 512, max_frames: int | None = None, i3d_path: Path | None = None,
             crop: int | None = None) -> dict:
    """Options left None take the encoded file's defaults, as `regen decode` would: steps 1,
    seed 0, the model's temperature (its card's, else 1)."""
    i3d = I3DFeatures(i3d_path, device) if i3d_path else None
    rows, real, fake = [], [], []
    for video in videos:
        row, features = evaluate_video(video, ref_model, device, options, max_side, max_frames, i3d, crop)
        rows.append(row)
        if features is not None:
            real.append(features[0])
            fake.append(features[1])
    keys = ("psnr", "ssim", "bpp", "encode_fps", "decode_fps")
    aggregate = {k: float(np.mean([r[k] for r in rows])) for k in keys}
    if real:
        real_all, fake_all = np.concatenate(real), np.concatenate(fake)
        aggregate["rfvd"] = frechet_distance(real_all, fake_all) if len(real_all) > 1 else None
        aggregate["rfvd_clips"] = len(real_all)
    used = options.resolve(DecodeDefaults(temperature=ref_model.temperature))
    return {"model": ref_model.name, "steps": used.steps, "seed": used.seed, "temperature": used.temperature,
            "max_side": max_side,
            "crop": crop, "videos": rows,
            "aggregate": aggregate}
