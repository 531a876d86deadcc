"""When each frame is shown: constant frame rate, or every frame's own display duration.

A video's timing is read from its decoded frames' timestamps (`timing_from_timestamps`) and
kept in the `.rgl` header: constant-rate video as its frame rate alone; variable-rate video
(since format 2.2) also as the display duration of every frame, run-length coded in the
source time base as [ticks, count] pairs. The header's `fps` is then the average rate,
frames / duration, so a reader that ignores the durations (2.1 and older) still writes the
right number of frames over the right duration. Outputs get each frame's start time from
`time_at` and are written with those timestamps, in every container.

Rules, and why:
- Timestamps whose steps are all equal, or differ by one tick where a step is at least
  `MIN_ROUNDED_STEP` ticks, are constant-rate (muxers round: 29.97 fps in Matroska's 1 ms
  ticks steps 33, 34, 33 ms). Where a tick is a whole frame, a step of two ticks is a
  dropped frame, so the video is variable-rate.
- Missing or non-increasing timestamps give constant rate at the stream's average rate:
  nothing better is known.
- More than `MAX_RUNS` runs (a header stays well under its 1 MiB), or a single frame
  longer than `MAX_FRAME_SECONDS`, turn variable rate into constant rate at the average
  rate: the frame count and the duration are kept, per-frame times are not.
- A time between two frames (interpolation) is placed linearly within the first frame's
  display interval; times before the first frame or after the last (extrapolation) step
  on at the first's or the last frame's duration.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Sequence

from ..errors import CorruptFile
from .limits import MAX_FRAME_SECONDS, MAX_RATIONAL, fps_ok, representable_fps

MAX_RUNS = 50_000
MIN_ROUNDED_STEP = 10


@dataclass(frozen=True)
class FrameTiming:
    frames: int
    fps: Fraction                               # the average frame rate: frames / duration
    time_base: Fraction                         # unit of `durations`
    durations: tuple[tuple[int, int], ...] = ()  # variable rate: (ticks, count) runs; empty: constant rate
    _starts: list = field(default_factory=list, repr=False, compare=False)

    @property
    def variable(self) -> bool:
        return bool(self.durations)

    @property
    def duration(self) -> Fraction:
        """Seconds from the first frame's start to the last frame's end."""
        if not self.variable:
            return self.frames / self.fps
        return sum(ticks * count for ticks, count in self.durations) * self.time_base

    def _run_starts(self) -> list[tuple[int, int, int]]:
        """(first frame, start tick, ticks per frame) of every run."""
        if not self._starts:
            frame = tick = 0
            for ticks, count in self.durations:
                self._starts.append((frame, tick, ticks))
                frame += count
                tick += ticks * count
        return self._starts

    def _frame_start(self, index: int) -> tuple[int, int]:
        """(start tick, duration in ticks) of frame `index` (0 <= index < frames)."""
        runs = self._run_starts()
        first, tick, ticks = runs[bisect.bisect_right(runs, (index, MAX_RATIONAL << 40, 0)) - 1]
        return tick + (index - first) * ticks, ticks

    def time_at(self, t: Fraction | float | int) -> Fraction:
        """Seconds after the first frame's start at which frame time `t` (in source frames,
        fractional between frames, negative before the first) is shown."""
        t = Fraction(t)
        if not self.variable:
            return t / self.fps
        last = self.frames - 1
        if t < 0:
            return t * self._frame_start(0)[1] * self.time_base
        if t > last:
            start, ticks = self._frame_start(last)
            return (start + (t - last) * ticks) * self.time_base
        index = int(t)
        start, ticks = self._frame_start(index)
        return (start + (t - index) * ticks) * self.time_base

    def header_durations(self) -> list[list[int]]:
        return [list(run) for run in self.durations]


def constant_timing(frames: int, fps: Fraction, time_base: Fraction) -> FrameTiming:
    return FrameTiming(frames, fps, time_base)


def timing_from_header(frames: int, fps: Fraction, time_base: Fraction, runs: list) -> FrameTiming:
    """The header's `frame_durations` checked against its frame count; CorruptFile otherwise."""
    if not runs:
        return constant_timing(frames, fps, time_base)
    if len(runs) > MAX_RUNS:
        raise CorruptFile("header frame_durations has too many runs")
    total = 0
    for run in runs:
        if not (isinstance(run, list) and len(run) == 2
                and all(isinstance(v, int) and not isinstance(v, bool) for v in run)):
            raise CorruptFile("header frame_durations is not a list of [ticks, count] pairs")
        ticks, count = run
        if not (1 <= ticks and ticks * time_base <= MAX_FRAME_SECONDS and 1 <= count <= frames):
            raise CorruptFile("header frame_durations is out of range")
        total += count
    if total != frames:
        raise CorruptFile("header frame_durations does not cover the frame count")
    return FrameTiming(frames, fps, time_base, tuple((ticks, count) for ticks, count in runs))


def _average_fps(frames: int, ticks: int, time_base: Fraction) -> Fraction:
    return representable_fps(Fraction(frames) / (ticks * time_base))


def timing_from_timestamps(pts: Sequence[int | None], last_duration: int | None, time_base: Fraction,
                           stream_fps: Fraction) -> FrameTiming:
    """The timing of decoded frames from their presentation timestamps (in `time_base`
    units) and the last frame's duration (None or 0: unknown). `stream_fps` is the
    container's average rate, used for constant-rate video when it agrees with the steps."""
    frames = len(pts)
    if frames < 2 or any(p is None for p in pts) or any(b <= a for a, b in zip(pts, pts[1:])):
        return constant_timing(frames, stream_fps, time_base)
    steps = [b - a for a, b in zip(pts, pts[1:])]
    span = pts[-1] - pts[0]
    mean = Fraction(span, frames - 1)
    if max(steps) == min(steps) or (max(steps) - min(steps) == 1 and min(steps) >= MIN_ROUNDED_STEP):
        measured = _average_fps(frames - 1, span, time_base)
        agrees = fps_ok(stream_fps) and abs(1 / stream_fps - mean * time_base) <= time_base
        return constant_timing(frames, stream_fps if agrees else measured, time_base)
    if not last_duration or last_duration <= 0:
        last_duration = sorted(steps)[len(steps) // 2]
    durations = steps + [last_duration]
    runs: list[tuple[int, int]] = []
    for ticks in durations:
        if runs and runs[-1][0] == ticks:
            runs[-1] = (ticks, runs[-1][1] + 1)
        else:
            runs.append((ticks, 1))
    total = sum(durations)
    fps = _average_fps(frames, total, time_base)
    if len(runs) > MAX_RUNS or max(durations) * time_base > MAX_FRAME_SECONDS:
        return constant_timing(frames, fps, time_base)
    return FrameTiming(frames, fps, time_base, tuple(runs))
