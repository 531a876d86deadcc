"""video -> `.rgl`: frames stream through one chunk at a time (memory bounded by a chunk,
never by the video's length), and the output is written atomically."""

from __future__ import annotations

import collections
from pathlib import Path

import numpy as np
import torch

from models import LATENT_CHANNELS, SPATIAL_FACTOR, Model
from models.quantize import to_int8

from .. import __version__
from ..codec.chunks import Chunk, chunked
from ..codec.encode import encode_frames
from ..errors import InvalidArgument, UnsupportedInput
from ..io.atomic import atomic_output
from ..io.checkpoints import load_model, weights_sha256
from ..io.container import RglHeader, RglWriter
from ..io.frames import to_model_range
from ..io.limits import MAX_FPS, MIN_FPS, format_fraction, fps_ok, time_base_ok
from ..io.timing import FrameTiming
from ..io.video import VideoReader
from ..io.zoo import ModelRef
from .common import progress
from .inspect import rates


def _int8_latents(model: Model, frames: list[np.ndarray], chunk: Chunk) -> np.ndarray:
    z_c, z_m = encode_frames(model, to_model_range(np.stack(frames)), chunk)
    return to_int8(torch.stack([z_c] if chunk.is_image else [z_c, z_m])).numpy()


def checked_timing(src: Path, timing: FrameTiming) -> FrameTiming:
    """The source's timing if an `.rgl` header can hold it; UnsupportedInput otherwise."""
    if not fps_ok(timing.fps):
        raise UnsupportedInput(f"{src}: frame rate {float(timing.fps):g} is outside the {float(MIN_FPS):g}-"
                               f"{float(MAX_FPS):g} frames per second regen supports")
    if not time_base_ok(timing.time_base):
        raise UnsupportedInput(f"{src}: time base {timing.time_base} is not supported")
    return timing


def encode_file(src: Path, dst: Path, ref: ModelRef, device: torch.device, overwrite: bool,
                quiet: bool, last_frames: list | None = None) -> dict:
    """Encodes `src` to the .rgl `dst`; when `last_frames` is a list it receives the video's
    last k+1 frames, uint8 (H, W, 3) (extrapolation starts from them)."""
    if dst.suffix.lower() != ".rgl":
        raise InvalidArgument(f"the output of encode must end in .rgl, got {dst.name}")
    with VideoReader(src) as reader:
        info = reader.info
        model = load_model(ref.path, device)
        recent: collections.deque = collections.deque(maxlen=model.ratio + 1)
        count = 0
        with atomic_output(dst, overwrite) as tmp, open(tmp, "wb") as f:
            writer = RglWriter(f)
            bar = progress(reader.stream.frames or None, "frame", quiet, "encode")

            def frames():
                nonlocal count
                for frame in reader.frames():
                    if last_frames is not None:
                        recent.append(frame)
                    count += 1
                    bar.update(1)
                    yield frame

            for chunk, chunk_frames in chunked(frames(), model.ratio):
                writer.add_chunk(_int8_latents(model, chunk_frames, chunk))
            bar.close()
            timing = checked_timing(src, reader.timing())
            header = RglHeader(
                model_name=ref.name, model_sha256=weights_sha256(ref.path), architecture=model.config.architecture,
                ratio=model.ratio, latent_channels=LATENT_CHANNELS, latent_height=-(-info.height // SPATIAL_FACTOR),
                latent_width=-(-info.width // SPATIAL_FACTOR), width=info.width, height=info.height, frames=count,
                fps=format_fraction(timing.fps), time_base=format_fraction(timing.time_base), source_codec=info.codec,
                rotation_applied=info.rotation, decode_temperature=ref.temperature, regen_version=__version__,
                frame_durations=timing.header_durations())
            size = writer.finish(header)
    if last_frames is not None:
        last_frames[:] = recent
    return {"input": str(src), "output": str(dst), "frames": count, "chunks": header.chunk_count(),
            "bytes": size, **rates(header, size), "model": ref.name, "ratio": model.ratio}
