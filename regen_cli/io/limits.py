"""What regen accepts, in one place: the video reader, the `.rgl` reader and writer and the
video writer check against the same numbers, so nothing one of them accepts is refused by
another later on (a file that `verify` passes can be decoded, a video that can be read can
be encoded).

Fractions (frame rates, time bases) are written "num/den" in ASCII digits, each part at most
`MAX_RATIONAL` (FFmpeg's rationals are 32-bit). Frame rates lie in [`MIN_FPS`, `MAX_FPS`]:
with those bounds every timestamp regen writes fits FFmpeg's 64-bit pts.
Imports neither torch nor PyAV.
"""

from __future__ import annotations

import re
from fractions import Fraction

from ..errors import CorruptFile

MAX_SIDE = 16384                  # pixels a side
MAX_PIXELS = 8192 * 8192          # pixels a frame
MAX_FRAMES = 1 << 31
MAX_RATIONAL = (1 << 31) - 1
MIN_FPS, MAX_FPS = Fraction(1, 3600), Fraction(1000)
MAX_FRAME_SECONDS = 3600          # the longest a single frame may last

_FRACTION = re.compile(r"([0-9]{1,10})/([0-9]{1,10})", re.ASCII)


def frame_size_ok(width: int, height: int) -> bool:
    return 0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE and width * height <= MAX_PIXELS


def fps_ok(fps: Fraction) -> bool:
    return MIN_FPS <= fps <= MAX_FPS and fps.numerator <= MAX_RATIONAL and fps.denominator <= MAX_RATIONAL


def time_base_ok(time_base: Fraction) -> bool:
    return 0 < time_base <= 1 and time_base.numerator <= MAX_RATIONAL and time_base.denominator <= MAX_RATIONAL


def format_fraction(value: Fraction) -> str:
    return f"{value.numerator}/{value.denominator}"


def parse_fraction(text: str, name: str) -> Fraction:
    """"num/den" with ASCII digits, both parts in 1..MAX_RATIONAL; else CorruptFile naming `name`."""
    match = _FRACTION.fullmatch(text)
    if match is None:
        raise CorruptFile(f"header {name} is not a fraction of two positive integers")
    num, den = int(match[1]), int(match[2])
    if not (1 <= num <= MAX_RATIONAL and 1 <= den <= MAX_RATIONAL):
        raise CorruptFile(f"header {name} is out of range")
    return Fraction(num, den)


def representable_fps(fps: Fraction) -> Fraction:
    """`fps` with numerator and denominator brought under MAX_RATIONAL (nearest such fraction)."""
    if fps.numerator <= MAX_RATIONAL and fps.denominator <= MAX_RATIONAL:
        return fps
    for limit in (1_000_000, 1001, 1):
        near = fps.limit_denominator(limit)
        if near.numerator <= MAX_RATIONAL:
            return near
    return Fraction(MAX_RATIONAL)
