"""Errors that the command line reports as one `error: ...` line with a documented exit code.

Exit codes: 0 success, 1 unexpected internal error, 2 usage (bad option, missing input,
output exists), 3 corrupt or truncated input file, 4 model and file do not match,
5 unsupported input (not a video, no video stream, no frames, absurd size, newer format),
6 output could not be written (disk full, permissions), 130 interrupted.
"""

from __future__ import annotations


class RegenError(Exception):
    exit_code = 1


class UsageError(RegenError):
    exit_code = 2


class CorruptFile(RegenError):
    exit_code = 3


class ModelMismatch(RegenError):
    exit_code = 4


class UnsupportedInput(RegenError):
    exit_code = 5


class OutputError(RegenError):
    exit_code = 6
