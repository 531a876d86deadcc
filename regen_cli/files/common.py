"""What the file pipelines share: the device, the model for a file, latents streamed from an
`.rgl`, resolved decode options, progress bars and atomic video output."""

from __future__ import annotations

import sys
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import torch
from tqdm import tqdm

from models import Model
from models.quantize import from_int8

from ..codec.options import DecodeDefaults, DecodeOptions
from ..errors import DeviceUnavailable, ModelMismatch, ModelNotBundled
from ..io.atomic import atomic_output
from ..io.checkpoints import load_model, weights_sha256
from ..io.container import RglHeader, RglReader
from ..io.video import VideoWriter, output_format
from ..io.zoo import bundled_models, resolve_model


def select_device(name: str) -> torch.device:
    """"auto" (CUDA when present), "cpu" or "cuda"."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise DeviceUnavailable("CUDA was asked for but no CUDA GPU is available")
    return torch.device(name)


def progress(total: int | None, unit: str, quiet: bool, desc: str) -> tqdm:
    return tqdm(total=total, unit=unit, desc=desc, file=sys.stderr, dynamic_ncols=True,
                disable=quiet or not sys.stderr.isatty())


class RglLatents:
    """An `.rgl` file as a latent source (`codec.latents.LatentSource`): every chunk is
    checked first (a damaged file fails before any decoding), then chunks are read and
    dequantised one at a time, when asked for."""

    def __init__(self, reader: RglReader) -> None:
        h = reader.header
        reader.check_all()
        self.reader = reader
        self.ratio, self.num_frames, self.height, self.width = h.ratio, h.frames, h.height, h.width

    @property
    def num_chunks(self) -> int:
        return self.reader.chunk_count

    def chunk(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        latents = from_int8(torch.from_numpy(self.reader.read_chunk(index).copy()))
        return latents[0], latents[-1]


def model_for_file(header: RglHeader, spec: str | None, device: torch.device) -> Model:
    """The model that encoded `header`'s file: `spec`, or the bundled model it names; refuses a mismatch."""
    if spec is None:
        if header.model_name not in bundled_models():
            raise ModelNotBundled(f"this file was encoded with model '{header.model_name}', which is not "
                                  "bundled here")
        ref = resolve_model(header.model_name)
    else:
        ref = resolve_model(spec)
    if weights_sha256(ref.path) != header.model_sha256:
        raise ModelMismatch(f"{ref.path} is not the model this file was encoded with "
                            f"('{header.model_name}', sha256 {header.model_sha256[:12]}…); pass the same model")
    model = load_model(ref.path, device)
    if model.config.architecture != header.architecture or model.ratio != header.ratio:
        raise ModelMismatch(f"{ref.path} is a {model.config.architecture} {model.ratio}x model but the file "
                            f"needs {header.architecture} {header.ratio}x")
    return model


def resolve_for_file(options: DecodeOptions, header: RglHeader) -> DecodeOptions:
    """The caller's options with the file's defaults filled in (and its extension flag obeyed)."""
    return options.resolve(DecodeDefaults.from_header(header))


def write_video(dst: Path, frames: Iterable[np.ndarray], width: int, height: int, fps: Fraction, crf: int,
                overwrite: bool, total: int, quiet: bool, time_of: Callable[[int], Fraction] | None = None,
                variable_rate: bool = False) -> int:
    """Writes uint8 (H, W, 3) frames to `dst` atomically; returns how many. Frame i is shown
    `time_of(i) - time_of(0)` seconds after the first (default i / fps); `fps` is the
    stream's nominal rate; `variable_rate`: those times are not evenly spaced."""
    output_format(dst)
    written = 0
    with atomic_output(dst, overwrite) as tmp:
        with VideoWriter(tmp, width, height, fps, crf, name=dst, variable_rate=variable_rate) as writer:
            bar = progress(total, "frame", quiet, "decode")
            for frame in frames:
                if time_of is None:
                    writer.write(frame)
                else:
                    start = time_of(written)
                    writer.write(frame, start - time_of(0), time_of(written + 1) - start)
                written += 1
                bar.update(1)
            bar.close()
    return written
