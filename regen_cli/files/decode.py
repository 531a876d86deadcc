"""`.rgl` (or a video, encoded first) -> video: decode, interpolate, extrapolate.

Every path decodes through the same streaming generators (`codec.timeline.decode_times`,
`codec.temporal.extrapolated_frames`) with one `DecodeOptions` resolved against the file's
header, so memory is bounded by a chunk and outputs are written atomically.
"""

from __future__ import annotations

import contextlib
import tempfile
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import numpy as np
import torch

from models import Magvit2, Model

from ..codec.decode import ChunkDecoder
from ..codec.options import DecodeOptions
from ..codec.temporal import check_extrapolation, extrapolated_frames, interpolation_times, require_regen
from ..codec.timeline import decode_times
from ..io.atomic import check_output
from ..io.container import RglReader
from ..io.frames import to_model_range, to_uint8
from ..io.video import output_format
from ..io.zoo import resolve_model
from .common import RglLatents, model_for_file, resolve_for_file, write_video
from .encode import encode_file


def frame_uint8(frame: torch.Tensor) -> np.ndarray:
    """(3, H, W) float in [-1, 1] -> uint8 (H, W, 3)."""
    return to_uint8(frame[:, None])[0].numpy()


def decoded_frames(source: RglLatents, decoder: ChunkDecoder) -> Iterator[np.ndarray]:
    """Every frame of the file in order, uint8 (H, W, 3), decoded chunk by chunk."""
    for _, frame in decode_times(decoder, source, range(source.num_frames)):
        yield frame_uint8(frame)


def decode_file(src: Path, dst: Path, spec: str | None, device: torch.device, options: DecodeOptions, crf: int,
                overwrite: bool, quiet: bool) -> dict:
    output_format(dst)
    with RglReader(src) as reader:
        h = reader.header
        model = model_for_file(h, spec, device)
        options = resolve_for_file(options, h)
        decoder = ChunkDecoder(model, options)
        written = write_video(dst, decoded_frames(RglLatents(reader), decoder), h.width, h.height, Fraction(h.fps),
                              crf, overwrite, h.frames, quiet, h.timing().time_at, h.timing().variable)
    return {"input": str(src), "output": str(dst), "frames": written, "width": h.width, "height": h.height,
            "fps": h.fps, "steps": options.steps, "seed": options.seed, "temperature": options.temperature,
            "extension": options.extension, "baseline": isinstance(model, Magvit2)}


@contextlib.contextmanager
def _latents_of(src: Path, dst: Path, ratio: int, spec: str | None, device: torch.device, overwrite: bool,
                quiet: bool) -> Iterator[tuple[RglReader, Model, list[np.ndarray]]]:
    """For interpolate/extrapolate: checks the output, encodes a video input to a temporary
    .rgl (an .rgl input is used as it is), and yields its reader, the REGEN model for it and
    the source's last k+1 frames (empty for an .rgl input)."""
    output_format(dst)
    check_output(dst, overwrite)
    with tempfile.TemporaryDirectory(dir=dst.parent, prefix=f".{dst.name}.") as tmp:
        last_frames: list[np.ndarray] = []
        rgl = src
        if src.suffix.lower() != ".rgl":
            ref = resolve_model(spec, ratio)
            rgl = Path(tmp) / "input.rgl"
            encode_file(src, rgl, ref, device, True, quiet, last_frames)
            spec = str(ref.path)
        with RglReader(rgl) as reader:
            model = model_for_file(reader.header, spec, device)
            require_regen(model)
            yield reader, model, last_frames


def interpolate_file(src: Path, dst: Path, factor: Fraction, ratio: int, spec: str | None, device: torch.device,
                     options: DecodeOptions, crf: int, overwrite: bool, quiet: bool) -> dict:
    """Decodes `src` at `factor` times its frame rate (same duration) into `dst`."""
    if factor <= 1:
        interpolation_times(1, factor)   # raises the one error message for this
    with _latents_of(src, dst, ratio, spec, device, overwrite, quiet) as (reader, model, _):
        h = reader.header
        times = interpolation_times(h.frames, factor)
        decoder = ChunkDecoder(model, resolve_for_file(options, h))
        frames = (frame_uint8(frame) for _, frame in decode_times(decoder, RglLatents(reader), times))
        out_fps = Fraction(h.fps) * factor
        timing = h.timing()
        written = write_video(dst, frames, h.width, h.height, out_fps, crf, overwrite, len(times), quiet,
                              lambda i: timing.time_at(times[i] if i < len(times) else times[-1] + 1 / factor),
                              timing.variable)
    return {"input": str(src), "output": str(dst), "source_frames": h.frames, "frames": written,
            "factor": float(factor), "fps": f"{out_fps.numerator}/{out_fps.denominator}"}


def extrapolate_file(src: Path, dst: Path, future: int, past: int, only_new: bool, ratio: int, spec: str | None,
                     device: torch.device, options: DecodeOptions, crf: int, overwrite: bool, quiet: bool) -> dict:
    """Writes `src` with `past` predicted frames before it and `future` after it (only the
    predicted ones with `only_new`) into `dst`."""
    check_extrapolation(future, past, at_least_one=True)
    with _latents_of(src, dst, ratio, spec, device, overwrite, quiet) as (reader, model, last_frames):
        h = reader.header
        tail = to_model_range(np.stack(last_frames)) if len(last_frames) == h.ratio + 1 else None
        stream = extrapolated_frames(model, RglLatents(reader), resolve_for_file(options, h), future, past,
                                     include_source=not only_new, tail=tail)
        total = past + future + (0 if only_new else h.frames)
        timing = h.timing()   # with the source: its frame times, extended; only new frames: the average rate
        written = write_video(dst, (frame_uint8(frame) for _, frame in stream), h.width, h.height, Fraction(h.fps),
                              crf, overwrite, total, quiet, None if only_new else lambda i: timing.time_at(i - past),
                              timing.variable and not only_new)
    return {"input": str(src), "output": str(dst), "source_frames": h.frames, "frames": written, "past": past,
            "future": future, "only_new": only_new, "fps": h.fps}
