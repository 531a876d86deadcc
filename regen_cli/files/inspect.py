"""`info` and `verify` on `.rgl` files. Imports no torch: these commands start instantly."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from ..io.container import RglHeader, RglReader


def rates(header: RglHeader, size: int) -> dict:
    """Bits per pixel and compression ratio (against 24-bit RGB) of a file of `size` bytes."""
    pixels = header.frames * header.width * header.height
    return {"bits_per_pixel": 8 * size / pixels, "compression_ratio": 3 * pixels / size}


def file_info(src: Path) -> dict:
    with RglReader(src) as reader:
        h = reader.header
        size = reader.size
    timing = h.timing()
    return {"file": str(src), "format_version": "%d.%d" % reader.version, "bytes": size,
            "model": h.model_name, "model_sha256": h.model_sha256, "architecture": h.architecture,
            "ratio": h.ratio, "frames": h.frames, "width": h.width, "height": h.height, "fps": h.fps,
            "variable_frame_rate": timing.variable, "duration_s": float(timing.duration), "chunks": reader.chunk_count,
            "latent_shape": [h.latent_frames(), h.latent_channels, h.latent_height, h.latent_width],
            "quantization": h.quantization, "source_codec": h.source_codec,
            "decode_defaults": {"steps": h.decode_steps, "seed": h.decode_seed, "temperature": h.decode_temperature,
                                "extension": h.latent_extension},
            **rates(h, size)}


def verify_file(src: Path) -> dict:
    with RglReader(src) as reader:
        reader.check_all()
        return {"file": str(src), "ok": True, "chunks": reader.chunk_count, "bytes": reader.size}


def input_frame_rate(src: Path) -> Fraction:
    """The frame rate of a video or an `.rgl` file, without decoding any frame data."""
    if src.suffix.lower() == ".rgl":
        with RglReader(src) as reader:
            return Fraction(reader.header.fps)
    from ..io.video import probe_frame_rate
    return probe_frame_rate(src)
