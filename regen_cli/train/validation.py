"""Validation during training: encode-decode PSNR and SSIM of centre crops of the `val` videos."""

from __future__ import annotations

import numpy as np
import torch

from models import SPATIAL_FACTOR, Model

from ..codec.decode import ChunkDecoder
from ..codec.encode import encode_video
from ..codec.options import DecodeDefaults, DecodeOptions, release_inference_model
from ..codec.timeline import decode_times
from ..eval.metrics import video_psnr, video_ssim
from ..io.frames import to_model_range, to_uint8
from .config import TrainConfig
from .data import FrameCache


def validation_clips(cfg: TrainConfig, cache: FrameCache) -> list[torch.Tensor]:
    """The first `val_frames` frames of each video, centre-cropped to `val_side` squares, (3, T, s, s)."""
    clips = []
    for clip in cache.clips:
        frames = np.array(clip.frames[:cfg.val_frames])
        h, w = frames.shape[1:3]
        side = min(cfg.val_side, h - h % SPATIAL_FACTOR, w - w % SPATIAL_FACTOR)
        y, x = (h - side) // 2, (w - side) // 2
        clips.append(to_model_range(frames[:, y:y + side, x:x + side]))
    return clips


def validate(model: Model, clips: list[torch.Tensor]) -> dict:
    """Mean PSNR and SSIM over `clips`, one sampling step, seed 0, through the inference path
    (bf16 copy where native), whose copy is released afterwards: the weights change next step."""
    model.eval()
    psnr, ssim = [], []
    options = DecodeOptions().resolve(DecodeDefaults())
    for video in clips:
        latents = encode_video(model, video)
        decoder = ChunkDecoder(model, options)
        out = torch.stack([frame for _, frame in decode_times(decoder, latents, range(latents.num_frames))], dim=1)
        a, b = to_uint8(out).numpy(), to_uint8(video).numpy()
        psnr.append(video_psnr(a, b))
        ssim.append(video_ssim(a, b))
    release_inference_model(model)
    return {"val_psnr": float(np.mean(psnr)), "val_ssim": float(np.mean(ssim))}
