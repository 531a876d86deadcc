"""JSON from an untrusted file, parsed within bounds: size, nesting depth, number lengths.

Python's `json` alone lets a crafted document raise RecursionError (deep nesting),
ValueError (integers of more than 4,300 digits) or produce NaN and Infinity; here each of
those, like any other malformed input, is a `CorruptFile` that says what is wrong. Duplicate
keys are refused too, since readers would disagree about which one counts.
"""

from __future__ import annotations

import json
import re

import numpy as np

from ..errors import CorruptFile

MAX_DEPTH = 16
MAX_NUMBER_CHARS = 32
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)


class _Refused(Exception):
    """Raised inside the parser's hooks; turned into CorruptFile by `load_bounded_json`."""


def _nesting_depth(data: bytes) -> int:
    """The deepest nesting of [ and { outside strings (of a document `json` would accept)."""
    skeleton = np.frombuffer(_STRINGS.sub(b'""', data), dtype=np.uint8)
    steps = np.isin(skeleton, (ord("["), ord("{"))).astype(np.int64) - np.isin(skeleton, (ord("]"), ord("}")))
    return int(np.cumsum(steps).max(initial=0))


def _number(text: str, kind) -> int | float:
    if len(text) > MAX_NUMBER_CHARS:
        raise _Refused(f"a number of {len(text)} characters")
    return kind(text)


def _no_constant(text: str):
    raise _Refused(f"{text} is not a number")


def _object(pairs: list) -> dict:
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise _Refused("a key appears twice")
    return dict(pairs)


def load_bounded_json(data: bytes, max_bytes: int = 1 << 20):
    """Parses UTF-8 JSON `data`; CorruptFile("header ...") for anything out of bounds."""
    if len(data) > max_bytes:
        raise CorruptFile(f"header is larger than {max_bytes} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise CorruptFile("header is not UTF-8") from None
    depth = _nesting_depth(data)
    if depth > MAX_DEPTH:
        raise CorruptFile(f"header nests {depth} levels deep (at most {MAX_DEPTH})")
    try:
        return json.loads(text, parse_int=lambda s: _number(s, int), parse_float=lambda s: _number(s, float),
                          parse_constant=_no_constant, object_pairs_hook=_object)
    except _Refused as exc:
        raise CorruptFile(f"header is refused: {exc}") from None
    except (json.JSONDecodeError, RecursionError) as exc:
        raise CorruptFile(f"header is not valid JSON ({str(exc)[:80]})") from None


def printable(text: str, max_chars: int = 512) -> bool:
    """Short text that prints anywhere: no control characters, no lone surrogates."""
    return len(text) <= max_chars and text.isprintable()
