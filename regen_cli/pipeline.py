"""File-level pipelines: video -> .rgl (encode), .rgl -> video (decode), info and verify.

Frames stream through one chunk at a time: memory is bounded by a chunk (k+1 frames),
never by the video's length. Outputs are written atomically (see `atomic.py`).
"""

from __future__ import annotations

import collections
import contextlib
import sys
import tempfile
from fractions import Fraction
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
import torch
from tqdm import tqdm

from models import Magvit2, Model, Regen
from models.quantize import from_int8, to_int8

from . import __version__
from .api import pad_chunk, pad_to_multiple_of_8, tile_cells
from .atomic import atomic_output, check_output
from .checkpoints import CheckpointError, load_model, weights_sha256
from .chunking import Chunk, plan_chunks
from .container import RglHeader, RglReader, RglWriter
from .decoding import ChunkDecoder
from .encoding import encode_chunk
from .errors import CorruptFile, ModelMismatch, UsageError
from .frames import to_model_range, to_uint8
from .video_io import VideoReader, VideoWriter, output_format
from .zoo import ModelRef, bundled_models, resolve_model


def select_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda was asked for but no CUDA GPU is available; use --device cpu")
    return torch.device(name)


def load(ref: ModelRef, device: torch.device) -> Model:
    try:
        return load_model(ref.path, device)
    except CheckpointError as exc:
        raise CorruptFile(str(exc)) from None


def progress(total: int | None, unit: str, quiet: bool, desc: str) -> tqdm:
    return tqdm(total=total, unit=unit, desc=desc, file=sys.stderr, dynamic_ncols=True,
                disable=quiet or not sys.stderr.isatty())


def _chunk_latents(model: Model, frames: list[np.ndarray], chunk, device: torch.device) -> np.ndarray:
    clip = pad_chunk(pad_to_multiple_of_8(to_model_range(np.stack(frames))), chunk)
    z_c, z_m = encode_chunk(model, clip.to(device))
    parts = [z_c] if chunk.is_image else [z_c, z_m]
    return to_int8(torch.stack(parts)).numpy()


def encode_file(src: Path, dst: Path, ref: ModelRef, device: torch.device, overwrite: bool,
                quiet: bool, last_frames: list | None = None) -> dict:
    """Encodes `src` to the .rgl `dst`; when `last_frames` is a list it receives the video's
    last k+1 frames, uint8 (H, W, 3) (extrapolation starts from them)."""
    if dst.suffix.lower() != ".rgl":
        raise UsageError(f"the output of encode must end in .rgl, got {dst.name}")
    with VideoReader(src) as reader:
        info = reader.info
        model = load(ref, device)
        span = model.ratio + 1
        count = 0
        recent: collections.deque = collections.deque(maxlen=span)
        with atomic_output(dst, overwrite) as tmp, open(tmp, "wb") as f:
            writer = RglWriter(f)
            buffer: list[np.ndarray] = []
            bar = progress(reader.stream.frames or None, "frame", quiet, "encode")
            for frame in reader.frames():
                buffer.append(frame)
                if last_frames is not None:
                    recent.append(frame)
                count += 1
                bar.update(1)
                if len(buffer) == span:
                    full = Chunk(count // span - 1, count - span, span, 0)
                    writer.add_chunk(_chunk_latents(model, buffer, full, device))
                    buffer = []
            if buffer:
                last = plan_chunks(count, model.ratio)[-1]
                writer.add_chunk(_chunk_latents(model, buffer, last, device))
            bar.close()
            z_h, z_w = -(-info.height // 8), -(-info.width // 8)
            header = RglHeader(
                model_name=ref.name, model_sha256=weights_sha256(ref.path), architecture=model.config.architecture,
                ratio=model.ratio, latent_channels=8, latent_height=z_h, latent_width=z_w, width=info.width,
                height=info.height, frames=count, fps=f"{info.fps.numerator}/{info.fps.denominator}",
                time_base=f"{info.time_base.numerator}/{info.time_base.denominator}", source_codec=info.codec,
                rotation_applied=info.rotation, decode_temperature=ref.temperature, regen_version=__version__)
            size = writer.finish(header)
    if last_frames is not None:
        last_frames[:] = recent
    return {"input": str(src), "output": str(dst), "frames": count, "chunks": header.chunk_count(),
            "bytes": size, **_rates(header, size), "model": ref.name, "ratio": model.ratio}


def _rates(header: RglHeader, size: int) -> dict:
    pixels = header.frames * header.width * header.height
    return {"bits_per_pixel": 8 * size / pixels, "compression_ratio": 3 * pixels / size}


def model_for_file(header: RglHeader, spec: str | None, device: torch.device) -> Model:
    """The model that encoded `header`'s file: `spec`, or the bundled model it names; refuses a mismatch."""
    if spec is None:
        if header.model_name not in bundled_models():
            raise ModelMismatch(f"this file was encoded with model '{header.model_name}', which is not bundled "
                                f"here; pass that model file with --model PATH")
        ref = resolve_model(header.model_name)
    else:
        ref = resolve_model(spec)
    if weights_sha256(ref.path) != header.model_sha256:
        raise ModelMismatch(f"{ref.path} is not the model this file was encoded with "
                            f"('{header.model_name}', sha256 {header.model_sha256[:12]}…); pass the same model")
    model = load(ref, device)
    if model.config.architecture != header.architecture or model.ratio != header.ratio:
        raise ModelMismatch(f"{ref.path} is a {model.config.architecture} {model.ratio}x model but the file "
                            f"needs {header.architecture} {header.ratio}x")
    return model


def _chunk_latents_of(reader: RglReader, index: int) -> tuple[torch.Tensor, torch.Tensor]:
    latents = from_int8(torch.from_numpy(reader.read_chunk(index).copy()))
    return latents[0], latents[-1]


def decoded_frames(reader: RglReader, decoder: ChunkDecoder) -> Iterator[np.ndarray]:
    """Every frame of the file in order, uint8 (H, W, 3), decoded chunk by chunk."""
    h = reader.header
    for chunk in plan_chunks(h.frames, h.ratio):
        z_c, z_m = _chunk_latents_of(reader, chunk.index)
        frames = decoder.decode(chunk.index, z_c, z_m, [float(t) for t in range(chunk.frames)])
        yield from to_uint8(frames[:, :, :h.height, :h.width]).numpy()


def write_video(dst: Path, frames: Iterable[np.ndarray], width: int, height: int, fps: Fraction, crf: int,
                overwrite: bool, total: int, quiet: bool) -> int:
    output_format(dst)
    written = 0
    with atomic_output(dst, overwrite) as tmp:
        with VideoWriter(tmp, width, height, fps, crf, name=dst) as writer:
            bar = progress(total, "frame", quiet, "decode")
            for frame in frames:
                writer.write(frame)
                written += 1
                bar.update(1)
            bar.close()
    return written


def decode_file(src: Path, dst: Path, spec: str | None, device: torch.device, steps: int | None,
                seed: int | None, extension: bool, tile: int | None, crf: int, overwrite: bool,
                quiet: bool, temperature: float | None = None) -> dict:
    output_format(dst)
    with RglReader(src) as reader:
        h = reader.header
        model = model_for_file(h, spec, device)
        steps = steps or h.decode_steps
        seed = h.decode_seed if seed is None else seed
        temperature = h.decode_temperature if temperature is None else temperature
        decoder = ChunkDecoder(model, steps, seed, tile_cells(tile), extension=extension and h.latent_extension,
                               bf16=device.type == "cuda" and isinstance(model, Regen), temperature=temperature)
        fps = Fraction(h.fps)
        written = write_video(dst, decoded_frames(reader, decoder), h.width, h.height, fps, crf, overwrite,
                              h.frames, quiet)
    return {"input": str(src), "output": str(dst), "frames": written, "width": h.width, "height": h.height,
            "fps": h.fps, "steps": steps, "seed": seed, "temperature": temperature, "extension": decoder.extension,
            "baseline": isinstance(model, Magvit2)}


def file_info(src: Path) -> dict:
    with RglReader(src) as reader:
        h = reader.header
        size = reader.size
    fps = Fraction(h.fps)
    return {"file": str(src), "format_version": "%d.%d" % reader.version, "bytes": size,
            "model": h.model_name, "model_sha256": h.model_sha256, "architecture": h.architecture,
            "ratio": h.ratio, "frames": h.frames, "width": h.width, "height": h.height, "fps": h.fps,
            "duration_s": float(h.frames / fps), "chunks": reader.chunk_count,
            "latent_shape": [h.latent_frames(), h.latent_channels, h.latent_height, h.latent_width],
            "quantization": h.quantization, "source_codec": h.source_codec,
            "decode_defaults": {"steps": h.decode_steps, "seed": h.decode_seed, "temperature": h.decode_temperature,
                                "extension": h.latent_extension},
            **_rates(h, size)}


def verify_file(src: Path) -> dict:
    with RglReader(src) as reader:
        for i in range(reader.chunk_count):
            reader.read_chunk(i)
        return {"file": str(src), "ok": True, "chunks": reader.chunk_count, "bytes": reader.size}


def _latents_for(src: Path, ratio: int, spec: str | None, device: torch.device, tmp: Path,
                 quiet: bool) -> tuple[Path, str | None, list[np.ndarray]]:
    """(an .rgl file, the model spec to decode it with, the source's last k+1 frames): `src`
    itself (no frames), or `src` encoded first."""
    if src.suffix.lower() == ".rgl":
        return src, spec, []
    ref = resolve_model(spec, ratio)
    rgl = tmp / "input.rgl"
    last_frames: list[np.ndarray] = []
    encode_file(src, rgl, ref, device, True, quiet, last_frames)
    return rgl, str(ref.path), last_frames


@contextlib.contextmanager
def _regen_latents(src: Path, dst: Path, ratio: int, spec: str | None, device: torch.device, overwrite: bool,
                   quiet: bool) -> Iterator[tuple[RglReader, Model, list[np.ndarray]]]:
    """For interpolate/extrapolate: checks the output, encodes a video input to a temporary
    .rgl (an .rgl input is used as it is), and yields its reader, the REGEN model for it and
    the source's last k+1 frames (empty for an .rgl input)."""
    from .temporal import require_regen
    output_format(dst)
    check_output(dst, overwrite)
    with tempfile.TemporaryDirectory(dir=dst.parent, prefix=f".{dst.name}.") as tmp:
        rgl, spec, last_frames = _latents_for(src, ratio, spec, device, Path(tmp), quiet)
        with RglReader(rgl) as reader:
            model = model_for_file(reader.header, spec, device)
            require_regen(model)
            yield reader, model, last_frames


def _input_fps(src: Path) -> Fraction:
    if src.suffix.lower() == ".rgl":
        with RglReader(src) as reader:
            return Fraction(reader.header.fps)
    with VideoReader(src) as reader:
        return reader.info.fps


def interpolate_file(src: Path, dst: Path, factor: Fraction | None, fps: Fraction | None, ratio: int,
                     spec: str | None, device: torch.device, steps: int | None, seed: int | None, extension: bool,
                     tile: int | None, crf: int, overwrite: bool, quiet: bool, temperature: float | None = None
                     ) -> dict:
    from .temporal import interpolation_times
    from .timeline import decode_times
    if fps is not None:   # resolved before a video input is encoded: a wrong rate costs no encoding
        input_fps = _input_fps(src)
        if fps <= input_fps:
            raise UsageError(f"--fps {float(fps):.6g} is not above the input's {float(input_fps):.6g} fps: "
                             "interpolation raises the frame rate")
        factor = fps / input_fps
    with _regen_latents(src, dst, ratio, spec, device, overwrite, quiet) as (reader, model, _):
        h = reader.header
        source_fps = Fraction(h.fps)
        times = interpolation_times(h.frames, factor)
        decoder = ChunkDecoder(model, steps or h.decode_steps, h.decode_seed if seed is None else seed,
                               tile_cells(tile), extension=extension, bf16=device.type == "cuda",
                               temperature=h.decode_temperature if temperature is None else temperature)

        def frames() -> Iterator[np.ndarray]:
            for _, frame in decode_times(decoder, lambda c: _chunk_latents_of(reader, c), [float(t) for t in times],
                                         h.ratio, h.chunk_count()):
                yield to_uint8(frame[:, None, :h.height, :h.width])[0].numpy()

        written = write_video(dst, frames(), h.width, h.height, source_fps * factor, crf, overwrite,
                              len(times), quiet)
    out_fps = source_fps * factor
    return {"input": str(src), "output": str(dst), "source_frames": h.frames, "frames": written,
            "factor": float(factor), "fps": f"{out_fps.numerator}/{out_fps.denominator}"}


def extrapolate_file(src: Path, dst: Path, future: int, past: int, only_new: bool, ratio: int, spec: str | None,
                     device: torch.device, steps: int | None, seed: int | None, extension: bool, tile: int | None,
                     crf: int, overwrite: bool, quiet: bool, temperature: float | None = None) -> dict:
    from .temporal import MAX_EXTRAPOLATION, extend, source_start
    if not 0 <= future <= MAX_EXTRAPOLATION or not 0 <= past <= MAX_EXTRAPOLATION or future + past == 0:
        raise UsageError(f"give --future and/or --past between 1 and {MAX_EXTRAPOLATION} frames")
    with _regen_latents(src, dst, ratio, spec, device, overwrite, quiet) as (reader, model, last_frames):
        h = reader.header
        k = h.ratio
        steps_, seed_ = steps or h.decode_steps, h.decode_seed if seed is None else seed
        temperature = h.decode_temperature if temperature is None else temperature
        bf16 = device.type == "cuda"
        decoder = ChunkDecoder(model, steps_, seed_, tile_cells(tile), extension=extension, bf16=bf16,
                               temperature=temperature)
        predictor = ChunkDecoder(model, steps_, seed_, tile_cells(tile), extension=False, bf16=bf16,
                                 temperature=temperature)
        chunks = plan_chunks(h.frames, k)

        def window(frames: list[torch.Tensor], newest: bool) -> torch.Tensor:
            clip = torch.stack(frames[-(k + 1):] if newest else frames[:k + 1], dim=1)
            pad = k + 1 - clip.shape[1]
            edge = clip[:, -1:] if newest else clip[:, :1]
            return torch.cat([clip, edge.expand(-1, pad, -1, -1)] if newest else
                             [edge.expand(-1, pad, -1, -1), clip], dim=1) if pad else clip

        def decoded(index: int) -> list[torch.Tensor]:
            z_c, z_m = _chunk_latents_of(reader, index)
            out = decoder.decode(index, z_c, z_m, [float(t) for t in range(chunks[index].frames)])
            return list(out[:, :, :h.height, :h.width].unbind(1))

        def frames() -> Iterator[np.ndarray]:
            first = decoded(0)
            if past:
                full = chunks[0].frames == k + 1
                before = list(extend(model, window(first, False), past, False, predictor,
                                     _chunk_latents_of(reader, 0) if full else None))
                for frame in reversed(before):
                    yield to_uint8(frame[:, None])[0].numpy()
            recent = first
            for index in range(len(chunks)):
                current = first if index == 0 else decoded(index)
                if not only_new:
                    for frame in current:
                        yield to_uint8(frame[:, None])[0].numpy()
                recent = (recent + current)[-(k + 1):] if index else current
            if future:
                if chunks[-1].frames == k + 1:
                    context, first_latents = window(recent, True), _chunk_latents_of(reader, len(chunks) - 1)
                elif len(last_frames) == k + 1:   # a video input: predict from its own last frames
                    context, first_latents = source_start(model, to_model_range(np.stack(last_frames)), device)
                else:                             # an .rgl input: from re-encoded decoded frames
                    context, first_latents = window(recent, True), None
                for frame in extend(model, context, future, True, predictor, first_latents):
                    yield to_uint8(frame[:, None])[0].numpy()

        total = past + future + (0 if only_new else h.frames)
        written = write_video(dst, frames(), h.width, h.height, Fraction(h.fps), crf, overwrite, total, quiet)
    return {"input": str(src), "output": str(dst), "source_frames": h.frames, "frames": written, "past": past,
            "future": future, "only_new": only_new, "fps": h.fps}
