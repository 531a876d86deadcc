"""Video reading and writing on PyAV, one frame at a time.

Reading takes any container and codec FFmpeg decodes; frames come out as uint8 RGB
(H, W, 3) with rotation metadata applied (the display matrix's counter-clockwise angle),
so width and height are the displayed ones. The frame count is the number of frames
actually decoded. Variable-frame-rate input keeps its frame count and is written back at
its average frame rate (same count, same duration), not with its original timestamps.

Writing picks the codec from the extension:
- `.mp4` / `.mov`: H.264 (libx264), CRF 16 by default; yuv420p, or yuv444p when the
  width or height is odd (4:2:0 needs even sizes), so the size is kept exactly.
- `.mkv`: FFV1, lossless RGB (bgr0).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import av
import numpy as np

from ..errors import CorruptFile, InvalidArgument, NotFound, UnsupportedInput

MAX_SIDE = 16384           # larger frames are refused as absurd
MAX_PIXELS = 8192 * 8192
WRITERS = {".mp4": ("mp4", "libx264"), ".mov": ("mov", "libx264"), ".mkv": ("matroska", "ffv1")}


@dataclass(frozen=True)
class VideoInfo:
    width: int              # displayed width (after rotation)
    height: int
    fps: Fraction           # average frame rate
    time_base: Fraction     # the source stream's time base
    codec: str
    container: str
    rotation: int           # counter-clockwise degrees applied while reading


def _fps(stream) -> Fraction:
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate and rate > 0:
            return Fraction(rate)
    return Fraction(25)


class VideoReader:
    """with VideoReader(path) as r: r.info; for frame in r.frames(): ... (uint8 H x W x 3)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise NotFound(f"input not found: {self.path}")
        if self.path.is_dir():
            raise InvalidArgument(f"input is a directory: {self.path}")
        try:
            self.container = av.open(str(self.path))
        except (av.error.FFmpegError, UnicodeDecodeError) as exc:
            raise UnsupportedInput(f"{self.path} is not a video FFmpeg can read ({exc})") from None
        if not self.container.streams.video:
            self.container.close()
            raise UnsupportedInput(f"{self.path} has no video stream")
        self.stream = self.container.streams.video[0]
        self.stream.thread_type = "AUTO"
        ctx = self.stream.codec_context
        width, height = ctx.width, ctx.height
        if width <= 0 or height <= 0 or max(width, height) > MAX_SIDE or width * height > MAX_PIXELS:
            self.container.close()
            raise UnsupportedInput(f"{self.path}: frame size {width}x{height} is not supported "
                                   f"(at most {MAX_SIDE} px a side and {MAX_PIXELS} pixels)")
        self._first = None
        self._iterator = self._decode()
        try:
            self._first = next(self._iterator)
        except StopIteration:
            self.container.close()
            raise UnsupportedInput(f"{self.path} has no decodable video frames") from None
        rotation = int(self._first.rotation or 0)
        if rotation % 180:
            width, height = height, width
        self.info = VideoInfo(width, height, _fps(self.stream), Fraction(self.stream.time_base or Fraction(1, 90000)),
                              ctx.name, self.container.format.name, rotation)

    def _decode(self) -> Iterator[av.VideoFrame]:
        try:
            yield from self.container.decode(self.stream)
        except av.error.FFmpegError as exc:
            raise CorruptFile(f"{self.path}: video data is damaged ({exc})") from None

    def _to_array(self, frame: av.VideoFrame) -> np.ndarray:
        image = frame.to_ndarray(format="rgb24")
        turns = round((frame.rotation or 0) / 90) % 4
        return np.ascontiguousarray(np.rot90(image, turns)) if turns else image

    def frames(self) -> Iterator[np.ndarray]:
        """Every frame in order, uint8 (H, W, 3) RGB; can be iterated once."""
        if self._first is not None:
            first, self._first = self._first, None
            yield self._to_array(first)
        for frame in self._iterator:
            image = self._to_array(frame)
            if image.shape[:2] != (self.info.height, self.info.width):
                raise UnsupportedInput(f"{self.path}: frame size changes mid-stream "
                                       f"({image.shape[1]}x{image.shape[0]}), which is not supported")
            yield image

    def close(self) -> None:
        self.container.close()

    def __enter__(self) -> "VideoReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def output_format(path: Path) -> tuple[str, str]:
    """(container format, codec) for an output file name, from its extension."""
    found = WRITERS.get(path.suffix.lower())
    if found is None:
        raise InvalidArgument(f"cannot write {path.suffix or 'files without an extension'}: "
                         f"use one of {', '.join(sorted(WRITERS))}")
    return found


class VideoWriter:
    """Writes uint8 (H, W, 3) RGB frames at a constant frame rate; the format comes from `name`'s
    extension (`path` may be a temporary file with another name)."""

    def __init__(self, path: str | Path, width: int, height: int, fps: Fraction, crf: int = 16,
                 name: str | Path | None = None) -> None:
        self.path = Path(path)
        container_format, codec = output_format(Path(name or path))
        self.container = av.open(str(self.path), mode="w", format=container_format)
        rate = Fraction(fps)
        if rate.numerator >= 1 << 31:
            rate = rate.limit_denominator(100_000)
        self.stream = self.container.add_stream(codec, rate=rate)
        self.stream.width, self.stream.height = width, height
        if codec == "ffv1":
            self.stream.pix_fmt = "bgr0"
        else:
            self.stream.pix_fmt = "yuv444p" if width % 2 or height % 2 else "yuv420p"
            self.stream.options = {"crf": str(crf), "preset": "medium"}
        # An integer timescale (a multiple of the numerator) with a pts step of a multiple of the
        # denominator is exact, so muxers never round two frames onto the same timestamp. The
        # multiple brings the timescale to about 90 kHz: with one tick per frame, H.264's
        # B-frame reordering left the mp4 muxer no room for decode timestamps (EINVAL at
        # 25, 50 or 60 fps after a few dozen frames).
        ticks = max(1, 90_000 // rate.numerator)
        self.stream.time_base = Fraction(1, rate.numerator * ticks)
        self.stream.codec_context.time_base = self.stream.time_base
        self.pts_step = rate.denominator * ticks
        self.index = 0

    def write(self, image: np.ndarray) -> None:
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
        frame.pts = self.index * self.pts_step
        frame.time_base = self.stream.time_base
        self.index += 1
        self.container.mux(self.stream.encode(frame))

    def close(self) -> None:
        self.container.mux(self.stream.encode(None))
        self.container.close()

    def __enter__(self) -> "VideoWriter":
        return self

    def __exit__(self, exc_type, *exc) -> None:
        if exc_type is None:
            self.close()
        else:
            self.container.close()
