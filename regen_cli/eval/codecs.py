"""Classical codecs through PyAV's own FFmpeg libraries, for `regen compare`. Does not import torch.

A video (uint8 RGB frames in memory) is converted to yuv420p (FFmpeg's swscale, its
default BT.601 matrix, limited range), encoded at one quality setting (CRF) with a codec
context and no container, and the packets are decoded back to RGB with the same
conversion. The bytes counted are the sum of the packet sizes: the raw elementary stream,
parameter sets / sequence headers included (they are in band: no global header), no
container, no audio, and without the encoder's informational SEI (x264's version and
options string, about 650 bytes, is cut out; x265's is turned off). `write_stream` writes exactly those bytes as a raw stream file
FFmpeg reads (`.h264`, `.hevc`, `.obu`); VP9 has no raw form, so it is written as IVF,
whose 32 + 12 bytes a frame of framing are not counted. Odd widths or heights are padded
by edge replication for 4:2:0 and cropped after decoding. One encoder thread and a fixed preset
make the bytes reproducible.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from ..errors import InvalidArgument


@dataclass(frozen=True)
class Codec:
    name: str                 # the name users type (--codecs)
    encoder: str              # FFmpeg encoder
    decoder: str              # FFmpeg decoder
    crf_range: tuple[int, int]  # best quality .. smallest file
    sweep: tuple[int, ...]    # CRFs of the rate-distortion curve
    options: dict = field(default_factory=dict)   # fixed encoder options besides crf
    suffix: str = ".bin"      # raw stream file extension
    info_marker: bytes = b""  # an informational SEI the encoder always writes, removed (decoders ignore it)


CODECS = {
    "x264": Codec("x264", "libx264", "h264", (0, 51), (18, 23, 28, 33, 38, 43, 48, 51),
                  {"preset": "veryslow"}, ".h264", b"x264 - core"),
    "x265": Codec("x265", "libx265", "hevc", (0, 51), (18, 23, 28, 33, 38, 43, 48, 51),
                  {"preset": "slow", "x265-params": "log-level=error:pools=1:frame-threads=1:info=0"}, ".hevc"),
    "svtav1": Codec("svtav1", "libsvtav1", "libdav1d", (1, 63), (23, 30, 37, 44, 51, 57, 63),
                    {"preset": "6", "svtav1-params": "lp=1"}, ".obu"),
    "vp9": Codec("vp9", "libvpx-vp9", "vp9", (0, 63), (23, 30, 37, 44, 51, 57, 63),
                 {"b": "0", "cpu-used": "2", "row-mt": "0"}, ".ivf"),
}
DEFAULT_CODECS = ("x264", "x265", "svtav1")
PIX_FMT = "yuv420p"
COUNTED = ("the codec's packets: the raw elementary stream with its in-band parameter sets / sequence "
           "header, no container, without the encoder's informational version/options SEI (x264's is "
           "removed, x265's turned off with info=0); yuv420p (swscale BT.601, limited range), one encoder thread")


def parse_codecs(text: str) -> list[Codec]:
    """'x264,svtav1' -> those codecs, in that order; unknown names are an InvalidArgument."""
    names = [n.strip().lower() for n in text.split(",") if n.strip()]
    if not names:
        raise InvalidArgument("no codec named: give e.g. x264,x265,svtav1")
    unknown = [n for n in names if n not in CODECS]
    if unknown:
        raise InvalidArgument(f"unknown codec {', '.join(unknown)}: choose from {', '.join(CODECS)}")
    return [CODECS[n] for n in dict.fromkeys(names)]


def missing_from_ffmpeg(codec: Codec) -> str | None:
    """None when PyAV's FFmpeg has the codec's encoder and decoder, else which it lacks."""
    lacking = [c for c in (codec.encoder, codec.decoder) if c not in av.codecs_available]
    return ", ".join(lacking) or None


@dataclass(frozen=True)
class Encoded:
    codec: str
    crf: int
    packets: tuple[bytes, ...]
    frames: np.ndarray        # decoded uint8 (T, H, W, 3)

    @property
    def bytes(self) -> int:
        return sum(len(p) for p in self.packets)


def _pad_even(frame: np.ndarray) -> np.ndarray:
    h, w = frame.shape[:2]
    return np.pad(frame, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge") if h % 2 or w % 2 else frame


def without_info(data: bytes, marker: bytes) -> bytes:
    """An Annex B packet without the SEI NAL unit that holds `marker` (x264's version and
    options string, about 650 bytes that decoders ignore)."""
    at = data.find(marker) if marker else -1
    if at < 0:
        return data
    start = data.rfind(b"\x00\x00\x01", 0, at)
    end = data.find(b"\x00\x00\x01", at)
    if start < 0 or data[start + 3] & 0x1F != 6:     # not inside an SEI NAL unit: keep it all
        return data
    start -= start > 0 and data[start - 1] == 0       # a 4-byte start code
    end = len(data) if end < 0 else end - (data[end - 1] == 0)
    return data[:start] + data[end:]


def encode(codec: Codec, frames: np.ndarray, fps: Fraction, crf: int) -> Encoded:
    """Encodes uint8 (T, H, W, 3) frames at `crf` and decodes them back."""
    lo, hi = codec.crf_range
    if not lo <= crf <= hi:
        raise InvalidArgument(f"{codec.name}: CRF must be in {lo}..{hi}, got {crf}")
    os.environ.setdefault("SVT_LOG", "1")     # SVT-AV1 prints its banner on stderr otherwise
    t, h, w = frames.shape[:3]
    enc = av.CodecContext.create(codec.encoder, "w")
    enc.width, enc.height = w + w % 2, h + h % 2
    enc.pix_fmt = PIX_FMT
    enc.framerate = Fraction(fps)
    enc.time_base = 1 / Fraction(fps)
    enc.thread_count = 1
    enc.options = {**codec.options, "crf": str(crf)}
    packets: list[bytes] = []
    for i, image in enumerate(frames):
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(_pad_even(image)), format="rgb24")
        frame = frame.reformat(format=PIX_FMT)
        frame.pts, frame.time_base = i, enc.time_base
        packets += [without_info(bytes(p), codec.info_marker) for p in enc.encode(frame)]
    packets += [without_info(bytes(p), codec.info_marker) for p in enc.encode(None)]
    dec = av.CodecContext.create(codec.decoder, "r")
    out = []
    for data in packets:
        out += dec.decode(av.Packet(data))
    out += dec.decode(None)
    decoded = np.stack([f.to_ndarray(format="rgb24")[:h, :w] for f in out])
    if len(decoded) != t:
        raise RuntimeError(f"{codec.name} at CRF {crf} gave back {len(decoded)} of {t} frames")
    return Encoded(codec.name, crf, tuple(packets), decoded)


class Encodings:
    """Encodes of one video with one codec, each CRF encoded once (the search and the sweep share them)."""

    def __init__(self, codec: Codec, frames: np.ndarray, fps: Fraction) -> None:
        self.codec, self.frames, self.fps = codec, frames, fps
        self.done: dict[int, Encoded] = {}

    def __call__(self, crf: int) -> Encoded:
        if crf not in self.done:
            self.done[crf] = encode(self.codec, self.frames, self.fps, crf)
        return self.done[crf]

    def match(self, budget: int) -> Encoded | None:
        """The best-quality (smallest) CRF whose bitstream is at most `budget` bytes, found by
        bisection on the invariant 'crf lo is too large, crf hi fits', so that the next CRF
        down is always larger than the budget; None when even the largest CRF does not fit."""
        lo, hi = self.codec.crf_range
        if self(lo).bytes <= budget:
            return self(lo)
        if self(hi).bytes > budget:
            return None
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if self(mid).bytes <= budget:
                hi = mid
            else:
                lo = mid
        return self(hi)


def write_stream(encoded: Encoded, codec: Codec, path: Path, width: int, height: int, fps: Fraction) -> None:
    """The packets as a file FFmpeg reads: the raw stream itself, or IVF framing for VP9."""
    with open(path, "wb") as f:
        if codec.suffix != ".ivf":
            for p in encoded.packets:
                f.write(p)
            return
        rate = Fraction(fps)
        f.write(b"DKIF" + struct.pack("<HH4sHHIII", 0, 32, b"VP90", width, height, rate.numerator,
                                      rate.denominator, len(encoded.packets), 0))
        for i, p in enumerate(encoded.packets):
            f.write(struct.pack("<IQ", len(p), i) + p)
