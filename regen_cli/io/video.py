"""Video reading and writing on PyAV, one frame at a time.

Reading takes any container and codec FFmpeg decodes; frames come out as uint8 RGB
(H, W, 3) with rotation metadata applied (the display matrix's counter-clockwise angle),
so width and height are the displayed ones. The frame count is the number of frames
actually decoded, and `timing()` gives when each is shown, from the decoded frames'
timestamps (`timing`: constant or variable frame rate).

Writing gives every frame its own timestamp (`write(image, seconds)`, or i / fps), in a
time base the container keeps: the header is written before the first frame, so a muxer
that imposes its own time base (Matroska: 1 ms) gets timestamps rescaled into it.
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
from .limits import MAX_PIXELS, MAX_SIDE, frame_size_ok, representable_fps
from .timing import FrameTiming, timing_from_timestamps

VIDEO_EXTS = {".mp4", ".mov", ".avi", ".mkv", ".webm", ".ogv", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv"}  # in folders
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
        if not frame_size_ok(width, height):
            self.container.close()
            raise UnsupportedInput(f"{self.path}: frame size {width}x{height} is not supported "
                                   f"(at most {MAX_SIDE} px a side and {MAX_PIXELS} pixels)")
        self._first = None
        self._pts: list[int | None] = []
        self._last_duration: int | None = None
        self._iterator = self._decode()
        try:
            self._first = next(self._iterator)
        except StopIteration:
            self.container.close()
            raise UnsupportedInput(f"{self.path} has no decodable video frames") from None
        width, height = self._first.width, self._first.height     # the codec context's may differ (Theora)
        if not frame_size_ok(width, height):
            self.container.close()
            raise UnsupportedInput(f"{self.path}: frame size {width}x{height} is not supported "
                                   f"(at most {MAX_SIDE} px a side and {MAX_PIXELS} pixels)")
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
        self._pts.append(frame.pts)
        self._last_duration = frame.duration
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

    def timing(self) -> FrameTiming:
        """When each frame read so far is shown (call after reading them all)."""
        return timing_from_timestamps(self._pts, self._last_duration, self.info.time_base, self.info.fps)

    def close(self) -> None:
        self.container.close()

    def __enter__(self) -> "VideoReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def probe_frame_rate(path: str | Path) -> Fraction:
    """The average frame rate `VideoReader.timing()` would give, from the packets' timestamps
    (demuxed, not decoded: fast even for long videos)."""
    with VideoReader(path) as reader:
        stream, pts, last = reader.stream, [], None
        reader.container.seek(0)
        for packet in reader.container.demux(stream):
            if packet.pts is not None:
                pts.append(packet.pts)
                last = packet.duration
        return timing_from_timestamps(sorted(pts), last, reader.info.time_base, reader.info.fps).fps


def output_format(path: Path) -> tuple[str, str]:
    """(container format, codec) for an output file name, from its extension."""
    found = WRITERS.get(path.suffix.lower())
    if found is None:
        raise InvalidArgument(f"cannot write {path.suffix or 'files without an extension'}: "
                         f"use one of {', '.join(sorted(WRITERS))}")
    return found


class VideoWriter:
    """Writes uint8 (H, W, 3) RGB frames, frame i at i / fps seconds unless `write` is given
    its time; the format comes from `name`'s extension (`path` may be a temporary file with
    another name). `fps` is the nominal (average) rate the stream is tagged with.
    `variable_rate`: the frames' times will not be evenly spaced. H.264 is then written
    without B-frames: MP4 and MOV store each frame's duration as the step between decode
    timestamps, which B-frame reordering spreads evenly, so the file's durations and total
    length came out wrong (a 4.87 s clip listed as 3.2 s)."""

    def __init__(self, path: str | Path, width: int, height: int, fps: Fraction, crf: int = 16,
                 name: str | Path | None = None, variable_rate: bool = False) -> None:
        self.path = Path(path)
        container_format, codec = output_format(Path(name or path))
        self.container = av.open(str(self.path), mode="w", format=container_format)
        rate = representable_fps(Fraction(fps))
        self.stream = self.container.add_stream(codec, rate=rate)
        self.stream.width, self.stream.height = width, height
        if codec == "ffv1":
            self.stream.pix_fmt = "bgr0"
        else:
            self.stream.pix_fmt = "yuv444p" if width % 2 or height % 2 else "yuv420p"
            self.stream.options = {"crf": str(crf), "preset": "medium", **({"bf": "0"} if variable_rate else {})}
        # An integer timescale (a multiple of the numerator) with a pts step of a multiple of the
        # denominator is exact, so muxers never round two frames onto the same timestamp. The
        # multiple brings the timescale to about 90 kHz: with one tick per frame, H.264's
        # B-frame reordering left the mp4 muxer no room for decode timestamps (EINVAL at
        # 25, 50 or 60 fps after a few dozen frames).
        ticks = max(1, 90_000 // rate.numerator)
        self.stream.time_base = Fraction(1, rate.numerator * ticks)
        self.time_base = self.stream.time_base
        self.stream.codec_context.time_base = self.time_base
        self.rate = rate
        self.container.start_encoding()     # the muxer fixes the stream's time base now
        self.index = 0
        self.last_pts = -1
        self.durations: dict[int, int] = {}

    def write(self, image: np.ndarray, seconds: Fraction | None = None, duration: Fraction | None = None) -> None:
        """One frame, shown from `seconds` after the first frame's start (default index / fps)
        for `duration` seconds (default 1 / fps); times must increase."""
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
        pts = round((self.index / self.rate if seconds is None else Fraction(seconds)) / self.time_base)
        if pts <= self.last_pts:
            raise ValueError(f"frame {self.index}: time {seconds} does not increase")
        frame.pts = self.last_pts = pts
        frame.time_base = self.time_base
        self.durations[pts] = max(1, round((1 / self.rate if duration is None else Fraction(duration)) / self.time_base))
        self.index += 1
        self._mux(self.stream.encode(frame))

    def _mux(self, packets) -> None:
        """Packets with their frame's duration (containers keep the last frame's length)."""
        for packet in packets:
            ticks = self.durations.pop(packet.pts, None)
            if ticks is not None:
                packet.duration = ticks
            self.container.mux(packet)

    def close(self) -> None:
        self._mux(self.stream.encode(None))
        self.container.close()

    def __enter__(self) -> "VideoWriter":
        return self

    def __exit__(self, exc_type, *exc) -> None:
        if exc_type is None:
            self.close()
        else:
            self.container.close()
