"""One zstd frame of a known size, decompressed only after its header and block layout
have been checked (RFC 8878).

python-zstandard allocates whatever content size a frame states, whatever bound it is
given, and silently ignores data after the first frame; so before decompressing, the
frame must state exactly the expected size, ask for a bounded window, and its blocks
must end exactly at the end of the payload (one frame, nothing after it). Checking
without keeping the data (`check`) decompresses into one reused buffer.
"""

from __future__ import annotations

import zstandard

from ..errors import CorruptFile

MAX_WINDOW = 1 << 25          # bytes
_RAW, _RLE, _COMPRESSED = 0, 1, 2
_BLOCK_LIMIT = 1 << 17        # the format's largest block


def _layout(payload: bytes) -> tuple[zstandard.FrameParameters, int]:
    """The frame's parameters and its total length in bytes, from its headers alone."""
    params = zstandard.get_frame_parameters(payload)
    position = zstandard.frame_header_size(payload)
    while True:
        if position + 3 > len(payload):
            raise CorruptFile("zstd frame is truncated")
        header = int.from_bytes(payload[position:position + 3], "little")
        last, kind, size = header & 1, header >> 1 & 3, header >> 3
        if kind not in (_RAW, _RLE, _COMPRESSED) or size > _BLOCK_LIMIT:
            raise CorruptFile("zstd frame has an invalid block")
        position += 3 + (1 if kind == _RLE else size)
        if last:
            return params, position + (4 if params.has_checksum else 0)


def _checked(payload: bytes, expected: int, what: str) -> None:
    try:
        params, length = _layout(payload)
    except zstandard.ZstdError:
        raise CorruptFile(f"{what} is not a zstd frame") from None
    except CorruptFile as exc:
        raise CorruptFile(f"{what}: {exc}") from None
    if params.content_size != expected:
        raise CorruptFile(f"{what} states {params.content_size} bytes, the header's latent shape has {expected}")
    if params.window_size > MAX_WINDOW:
        raise CorruptFile(f"{what} asks for a {params.window_size}-byte window")
    if length < len(payload):
        raise CorruptFile(f"{what} holds more than one zstd frame")
    if length > len(payload):
        raise CorruptFile(f"{what}: zstd frame is truncated")


class FrameReader:
    """Decompresses single zstd frames of known sizes; `what` names them in errors."""

    def __init__(self) -> None:
        self.decompressor = zstandard.ZstdDecompressor(max_window_size=MAX_WINDOW)
        self.scratch = bytearray()

    def decompress(self, payload: bytes, expected: int, what: str) -> bytes:
        _checked(payload, expected, what)
        try:
            raw = self.decompressor.decompress(payload, max_output_size=expected)
        except zstandard.ZstdError as exc:
            raise CorruptFile(f"{what} does not decompress ({exc})") from None
        if len(raw) != expected:
            raise CorruptFile(f"{what} has the wrong size")
        return raw

    def check(self, payload: bytes, expected: int, what: str) -> None:
        """As `decompress`, keeping nothing: the output goes to one reused buffer."""
        _checked(payload, expected, what)
        if len(self.scratch) < expected:
            self.scratch = bytearray(expected)
        view, done = memoryview(self.scratch)[:expected], 0
        try:
            reader = self.decompressor.stream_reader(payload, read_across_frames=False)
            while done < expected:
                count = reader.readinto(view[done:])
                if not count:
                    break
                done += count
            if done != expected or reader.read(1):
                raise CorruptFile(f"{what} has the wrong size")
        except zstandard.ZstdError as exc:
            raise CorruptFile(f"{what} does not decompress ({exc})") from None
