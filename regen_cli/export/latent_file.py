"""One clip's latents as a `.safetensors` file: what a generator writes and `regen decode` reads.

The layout of an export clip: one tensor `latents` of shape (chunks, 2, 8, h, w), index 0
of the second axis z_c, index 1 z_m, as float (float32, float16, bfloat16: a generator's
values) or int8 (q, value q / 127). Metadata, all optional:

    format "regen-latents", format_version "1"
    model, model_sha256, ratio           the model whose latent space it is
    frames, height, width, fps           the video it decodes to (default: every frame of
                                         the chunks, 8h x 8w; fps "30000/1001" or "24")
    normalized "true" + stats            stats = the export's stats.json: the values are
                                         (x - mean) / std and are de-normalised before decoding

`save_latents` writes such a file; `LatentDataset.save_latents` fills in its export's model
and statistics.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
import re
from fractions import Fraction
from pathlib import Path
from typing import Optional

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from models import LATENT_CHANNELS, SPATIAL_FACTOR
from models.quantize import from_int8

from ..codec.chunks import chunk_count
from ..codec.latents import VideoLatents
from ..errors import CorruptFile, InvalidArgument, NotFound
from ..io.atomic import atomic_output
from ..io.limits import MAX_FPS, MIN_FPS, fps_ok
from .layout import FORMAT, FORMAT_VERSION, encode_meta
from .stats import LatentStats

TENSOR = "latents"


@dataclass(frozen=True)
class LatentFile:
    """A latent file's contents; `latents` (chunks, 2, 8, h, w) float32 as stored (normalised
    when `stats` is set), the other fields None where the file does not say."""

    latents: torch.Tensor
    model: Optional[str] = None
    model_sha256: Optional[str] = None
    ratio: Optional[int] = None
    frames: Optional[int] = None
    height: Optional[int] = None
    width: Optional[int] = None
    fps: Optional[Fraction] = None
    stats: Optional[LatentStats] = None     # set: the values are normalised with these statistics

    def video_latents(self, ratio: int) -> VideoLatents:
        """De-normalised latents as `VideoLatents` for a model of ratio k = `ratio`: frames
        default to every frame of the chunks, the size to 8h x 8w."""
        if self.ratio is not None and self.ratio != ratio:
            raise InvalidArgument(f"the latents are {self.ratio}x but the model is {ratio}x")
        values = self.stats.denormalize(self.latents.double()).float() if self.stats else self.latents
        chunks, _, _, h, w = values.shape
        frames = self.frames or chunks * (ratio + 1)
        height, width = self.height or SPATIAL_FACTOR * h, self.width or SPATIAL_FACTOR * w
        if chunk_count(frames, ratio) != chunks:
            raise InvalidArgument(f"{frames} frames at {ratio}x are {chunk_count(frames, ratio)} chunks, "
                                  f"but the latents hold {chunks}")
        if -(-height // SPATIAL_FACTOR) != h or -(-width // SPATIAL_FACTOR) != w:
            raise InvalidArgument(f"a {width}x{height} video has a {-(-height // SPATIAL_FACTOR)}x"
                                  f"{-(-width // SPATIAL_FACTOR)} latent grid, but the latents are {h}x{w}")
        return VideoLatents(values[:, 0].contiguous(), values[:, 1].contiguous(), ratio, frames, height, width)


def _fps(value: str) -> Fraction:
    """"30000/1001", "24" or "29.97" in ASCII digits, within the frame rates regen supports."""
    if not re.fullmatch(r"[0-9]{1,10}(/[0-9]{1,10}|\.[0-9]{1,10})?", value, re.ASCII):
        raise ValueError("not a frame rate")
    rate = Fraction(value)
    if not fps_ok(rate):
        raise ValueError(f"outside {MIN_FPS}-{MAX_FPS} fps")
    return rate


def read_latents(path: str | os.PathLike) -> LatentFile:
    """Reads a latent file (see the module's docstring); never unpickles."""
    path = Path(path)
    if not path.is_file():
        raise NotFound(f"input not found: {path}")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
            names = list(f.keys())
            if len(names) != 1:
                raise CorruptFile(f"{path} holds {len(names)} tensors; a latent file holds one, "
                                  f"'{TENSOR}' (chunks, 2, {LATENT_CHANNELS}, h, w)")
            latents = f.get_tensor(names[0])
    except SafetensorError as exc:
        raise CorruptFile(f"{path} is not a readable safetensors file: {exc}") from None
    if latents.dim() != 5 or latents.shape[1] != 2 or latents.shape[2] != LATENT_CHANNELS or latents.shape[0] < 1:
        raise CorruptFile(f"{path}: latents must be (chunks, 2, {LATENT_CHANNELS}, h, w), got {tuple(latents.shape)}")
    if latents.dtype == torch.int8:
        latents = from_int8(latents)
    elif latents.is_floating_point():
        latents = latents.float()
    else:
        raise CorruptFile(f"{path}: latents must be float or int8, got {latents.dtype}")
    try:
        stats = None
        if meta.get("normalized", "false").lower() == "true":
            if "stats" not in meta:
                raise CorruptFile(f"{path} says its latents are normalised but holds no 'stats' to undo it with")
            stats = LatentStats.from_json(json.loads(meta["stats"]))
        ints = {k: int(meta[k]) for k in ("ratio", "frames", "height", "width") if k in meta}
        fps = _fps(meta["fps"]) if "fps" in meta else None
    except (ValueError, ZeroDivisionError) as exc:
        raise CorruptFile(f"{path} has invalid metadata: {exc}") from None
    return LatentFile(latents, meta.get("model"), meta.get("model_sha256"), stats=stats, fps=fps, **ints)


def save_latents(path: str | os.PathLike, latents: torch.Tensor, *, model: Optional[str] = None,
                 model_sha256: Optional[str] = None, ratio: Optional[int] = None, frames: Optional[int] = None,
                 height: Optional[int] = None, width: Optional[int] = None, fps: Optional[str | Fraction] = None,
                 stats: Optional[dict] = None, overwrite: bool = True) -> None:
    """Writes (chunks, 2, 8, h, w) float (or int8) latents as a latent file `regen decode` reads;
    `stats` (an export's stats.json content) marks the values as normalised with it."""
    latents = torch.as_tensor(latents).detach().cpu()
    if latents.dim() != 5 or latents.shape[1] != 2 or latents.shape[2] != LATENT_CHANNELS:
        raise InvalidArgument(f"latents must be (chunks, 2, {LATENT_CHANNELS}, h, w), got {tuple(latents.shape)}")
    if not (latents.is_floating_point() or latents.dtype == torch.int8):
        raise InvalidArgument(f"latents must be float or int8, got {latents.dtype}")
    if stats is not None:
        LatentStats.from_json(stats)   # checks them
    values = {"model": model, "model_sha256": model_sha256, "ratio": ratio, "frames": frames, "height": height,
              "width": width, "fps": None if fps is None else str(Fraction(fps)),
              "normalized": "true" if stats is not None else "false", "stats": stats}
    metadata = encode_meta({"format": FORMAT, "format_version": FORMAT_VERSION,
                            **{k: v for k, v in values.items() if v is not None}})
    with atomic_output(Path(path), overwrite) as tmp:
        save_file({TENSOR: latents.contiguous()}, str(tmp), metadata=metadata)
