"""The `.rgl` latent container: reading and writing, with every byte checked.

Layout (all integers little-endian):

    Preamble  16 bytes   magic b"\\x89RGL\\r\\n\\x1a\\n" | major u16 | minor u16 | CRC-32 of bytes 0..11
    Record *  per chunk  32-byte record header + zstd payload (see below)
    Header    JSON       UTF-8, at most 1 MiB (fields: `RglHeader`)
    Index     8 * N      u64 file offset of each chunk record, increasing
    Footer    40 bytes   header offset u64 | header length u32 | index offset u64 | chunk count u32 |
                         CRC-32 of header + index | CRC-32 of footer bytes 0..27 | b"RGL-END\\x00"

    Record header: b"RGLC" | chunk index u32 | latent frames u16 (2, or 1 for an image) |
                   channels u16 | latent height u16 | latent width u16 | payload length u32 |
                   CRC-32 of payload | coding u32 | CRC-32 of record-header bytes 0..27
    Payload: one zstd frame holding int8 values in (frames, channels, height, width) order.
             Coding 0: the latents themselves; value q stands for q / 127 (z_c first, then
             z_m). Coding 1: their lossless MED prediction residuals (`latent_coding`).
             The writer stores whichever of the two is smaller, chunk by chunk.

Versions: 1.0 had no codings (the field was reserved, always 0); 2.0 added coding 1; 2.1
the header field `decode_temperature`; 2.2 `frame_durations`: for variable-frame-rate video,
every frame's display duration as [ticks, count] runs in units of `time_base` (`timing`),
with `fps` the true average rate, so a 2.1 reader, which ignores the field, keeps the frame
count and the duration. This reader reads 1.x and 2.x; regen versions that read only 1.x
refuse 2.x files with a clear message instead of misreading them.

What a reader accepts (checked before anything is trusted or allocated):
- Header: UTF-8 JSON of at most 1 MiB, nesting at most 16 deep, numbers of at most 32
  characters, no NaN or Infinity, no key twice (`bounded_json`); every field of its type
  and range: printable texts, a hex SHA-256, a known architecture and ratio, 8 latent
  channels, a video size the video reader accepts (at most 16384 px a side and 8192 x 8192
  pixels; the latent size is that over 8, rounded up), frame rate and time base as ASCII
  "num/den" with 32-bit parts, the rate in 1/3600-1000 fps (`limits`).
- Payload: exactly one zstd frame that states the content size the header's latent shape
  gives (at most 16 MiB), with a window of at most 32 MiB and blocks that end where the
  payload ends, checked from its headers before decompressing (`zstd_frame`).

Every byte is under a CRC, so a truncated file (no valid footer) or any flipped bit is
detected. The header sits after the records because the frame count is only known once
the input has been read to its end; readers find it through the footer. The index lets a
reader seek to any chunk; every chunk decodes on its own. Readers check every length and
offset against the file size and the header before reading or allocating, never unpickle,
and never decompress more than the header's latent shape allows. A newer major version is
refused; a newer minor version is read (minor versions only add optional header fields).
Writing is deterministic: the same latents and header give the same bytes.
Imports no torch: `regen info` and `regen verify` start instantly.
"""

from __future__ import annotations

import json
import struct
import zlib
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import BinaryIO

import numpy as np
import zstandard

from models.config import LATENT_CHANNELS, RATIOS, SPATIAL_FACTOR

from ..codec.chunks import chunk_count
from ..codec.options import MAX_STEPS, MAX_TEMPERATURE
from ..errors import CorruptFile, InvalidArgument, NotFound, UnsupportedInput
from . import latent_coding
from .bounded_json import load_bounded_json, printable
from .limits import (MAX_FPS, MAX_FRAMES, MAX_PIXELS, MAX_SIDE, MIN_FPS, fps_ok, frame_size_ok, parse_fraction,
                     time_base_ok)
from .timing import FrameTiming, timing_from_header
from .zstd_frame import FrameReader

MAGIC = b"\x89RGL\r\n\x1a\n"
END_MAGIC = b"RGL-END\x00"
RECORD_MAGIC = b"RGLC"
MAJOR, MINOR = 2, 2
READABLE_MAJORS = (1, 2)
PREAMBLE = struct.Struct("<8sHHI")
RECORD = struct.Struct("<4sIHHHHIIII")
FOOTER = struct.Struct("<QIQIII8s")
MAX_HEADER = 1 << 20
ZSTD_LEVEL = 19
ARCHITECTURES = ("regen", "magvit2")
FIELD_TYPES = {"str": str, "int": int, "bool": bool, "dict": dict, "list": list, "float": (int, float)}


def crc(data: bytes) -> int:
    return zlib.crc32(data) & 0xFFFFFFFF


@dataclass(frozen=True)
class RglHeader:
    model_name: str               # bundled model name, or the file name of a user model
    model_sha256: str             # SHA-256 of the model file's bytes
    architecture: str             # "regen" or "magvit2"
    ratio: int                    # k: chunks of k+1 frames
    latent_channels: int
    latent_height: int            # per chunk latent frame: (channels, latent_height, latent_width)
    latent_width: int
    width: int                    # original video size in pixels; padded size is 8 * latent size
    height: int
    frames: int                   # frames in the source video
    fps: str                      # average frame rate as a fraction "num/den"
    time_base: str                # source stream time base "num/den"
    source_codec: str
    rotation_applied: int         # counter-clockwise degrees applied while reading the source
    decode_steps: int = 1         # sampler defaults for `regen decode`
    decode_seed: int = 0
    latent_extension: bool = True
    decode_temperature: float = 1.0   # scale of the sampling noise (since 2.1; absent: 1)
    quantization: str = "int8 q/127"
    color: str = "RGB full range from FFmpeg's default YUV->RGB conversion (BT.601 unless tagged)"
    regen_version: str = ""
    frame_durations: list = field(default_factory=list)   # variable frame rate (since 2.2): [ticks, count] runs
    extra: dict = field(default_factory=dict)   # optional fields added by newer minor versions

    @property
    def padded_width(self) -> int:
        return SPATIAL_FACTOR * self.latent_width

    @property
    def padded_height(self) -> int:
        return SPATIAL_FACTOR * self.latent_height

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, data: bytes) -> "RglHeader":
        """Parses and validates header bytes; CorruptFile names the first problem found."""
        raw = load_bounded_json(data)
        if not isinstance(raw, dict):
            raise CorruptFile("header is not a JSON object")
        values = {}
        for f in fields(cls):
            if f.name not in raw:
                if f.default is MISSING and f.default_factory is MISSING:
                    raise CorruptFile(f"header lacks field {f.name!r}")
                continue
            values[f.name] = raw.pop(f.name)
        extra = values.get("extra", {})
        if not isinstance(extra, dict):
            raise CorruptFile("header field 'extra' is not an object")
        values["extra"] = {**extra, **raw}     # fields of newer minor versions
        for f in fields(cls):
            if f.name in values:
                kind = FIELD_TYPES[f.type if isinstance(f.type, str) else f.type.__name__]
                value = values[f.name]
                if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
                    raise CorruptFile(f"header field {f.name!r} has the wrong type")
        header = cls(**values)
        header.validate()
        return header

    def validate(self) -> None:
        """Every field in the range that encoding could have written and decoding can use."""
        for name in ("model_name", "architecture", "source_codec", "quantization", "color", "regen_version"):
            if not printable(getattr(self, name)):
                raise CorruptFile(f"header field {name!r} is not a short printable text")
        if not (len(self.model_sha256) == 64 and all(c in "0123456789abcdef" for c in self.model_sha256)):
            raise CorruptFile("header model_sha256 is not a SHA-256 in hex")
        if self.architecture not in ARCHITECTURES:
            raise CorruptFile(f"header architecture {self.architecture!r} is not one of {', '.join(ARCHITECTURES)}")
        if self.ratio not in RATIOS:
            raise CorruptFile(f"header ratio {self.ratio} is not one of {', '.join(map(str, RATIOS))}")
        if self.latent_channels != LATENT_CHANNELS:
            raise CorruptFile(f"header latent channels {self.latent_channels} is not {LATENT_CHANNELS}")
        if not (self.padded_width - SPATIAL_FACTOR < self.width <= self.padded_width
                and self.padded_height - SPATIAL_FACTOR < self.height <= self.padded_height):
            raise CorruptFile("header video size does not match the latent size")
        if not frame_size_ok(self.width, self.height):
            raise CorruptFile(f"header video size {self.width}x{self.height} is larger than regen reads "
                              f"(at most {MAX_SIDE} px a side and {MAX_PIXELS} pixels)")
        if not (1 <= self.frames <= MAX_FRAMES):
            raise CorruptFile("header frame count is out of range")
        if self.rotation_applied not in (0, 90, 180, 270, -90, -180, -270):
            raise CorruptFile("header rotation is not a multiple of 90 degrees")
        if not 1 <= self.decode_steps <= MAX_STEPS:
            raise CorruptFile("header decode steps out of range")
        if not -(1 << 63) < self.decode_seed < 1 << 63:
            raise CorruptFile("header decode seed out of range")
        if not 0 <= self.decode_temperature <= MAX_TEMPERATURE:
            raise CorruptFile("header decode temperature out of range")
        if not fps_ok(parse_fraction(self.fps, "fps")):
            raise CorruptFile(f"header fps is outside {MIN_FPS}-{MAX_FPS} frames per second")
        if not time_base_ok(parse_fraction(self.time_base, "time_base")):
            raise CorruptFile("header time_base is out of range")
        self.timing()

    def timing(self) -> FrameTiming:
        """When each frame is shown (CorruptFile if `frame_durations` is inconsistent)."""
        return timing_from_header(self.frames, parse_fraction(self.fps, "fps"),
                                  parse_fraction(self.time_base, "time_base"), self.frame_durations)

    def chunk_count(self) -> int:
        return chunk_count(self.frames, self.ratio)

    def latent_frames(self) -> int:
        """Latent frames per record: 1 for a single image, else 2 (z_c, z_m)."""
        return 1 if self.frames == 1 else 2


class RglWriter:
    """Streams chunk records to an open binary file, then `finish(header)` writes the rest."""

    def __init__(self, file: BinaryIO) -> None:
        self.file = file
        self.offsets: list[int] = []
        self.compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL, write_checksum=False,
                                                   write_content_size=True)
        body = MAGIC + struct.pack("<HH", MAJOR, MINOR)
        self._write(body + struct.pack("<I", crc(body)))
        self.position = PREAMBLE.size

    def _write(self, data: bytes) -> None:
        self.file.write(data)

    def add_chunk(self, latents: np.ndarray) -> None:
        """int8 (frames, channels, h, w)."""
        if latents.dtype != np.int8 or latents.ndim != 4:
            raise ValueError("chunk latents must be int8 (frames, channels, h, w)")
        raw = self.compressor.compress(np.ascontiguousarray(latents).tobytes())
        predicted = self.compressor.compress(latent_coding.encode(latents).tobytes())
        coding, payload = (latent_coding.MED, predicted) if len(predicted) < len(raw) else (latent_coding.RAW, raw)
        frames, channels, h, w = latents.shape
        head = RECORD.pack(RECORD_MAGIC, len(self.offsets), frames, channels, h, w, len(payload), crc(payload),
                           coding, 0)
        head = head[:28] + struct.pack("<I", crc(head[:28]))
        self.offsets.append(self.position)
        self._write(head + payload)
        self.position += len(head) + len(payload)

    def finish(self, header: RglHeader) -> int:
        """Writes header, index and footer; returns the file size."""
        header_bytes = header.to_json()
        if len(header_bytes) > MAX_HEADER:
            raise ValueError("header too large")
        if len(self.offsets) != header.chunk_count():
            raise ValueError(f"wrote {len(self.offsets)} chunks but the header implies {header.chunk_count()}")
        index = struct.pack(f"<{len(self.offsets)}Q", *self.offsets)
        header_offset = self.position
        index_offset = header_offset + len(header_bytes)
        footer = FOOTER.pack(header_offset, len(header_bytes), index_offset, len(self.offsets),
                             crc(header_bytes + index), 0, END_MAGIC)
        footer = footer[:28] + struct.pack("<I", crc(footer[:28])) + END_MAGIC
        self._write(header_bytes + index + footer)
        self.position = index_offset + len(index) + len(footer)
        return self.position


class RglReader:
    """Opens and validates an `.rgl` file: preamble, footer, header and index are checked on
    open; `read_chunk(i)` checks that record's CRCs and shape."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise NotFound(f"input not found: {self.path}")
        if self.path.is_dir():
            raise InvalidArgument(f"input is a directory: {self.path}")
        self.file = open(self.path, "rb")
        self.frames = FrameReader()
        try:
            self._open()
        except BaseException:
            self.file.close()
            raise

    def _fail(self, what: str) -> CorruptFile:
        return CorruptFile(f"{self.path} is corrupt or truncated: {what}")

    def _open(self) -> None:
        self.size = self.file.seek(0, 2)
        if self.size < PREAMBLE.size + FOOTER.size:
            raise self._fail("too short to be an .rgl file")
        self.file.seek(0)
        magic, major, minor, check = PREAMBLE.unpack(self.file.read(PREAMBLE.size))
        if magic != MAGIC:
            raise CorruptFile(f"{self.path} is not an .rgl file (bad magic)")
        if crc(MAGIC + struct.pack("<HH", major, minor)) != check:
            raise self._fail("preamble checksum mismatch")
        if major > MAJOR:
            raise UnsupportedInput(f"{self.path} uses .rgl format {major}.{minor}, newer than this regen "
                                   f"reads ({MAJOR}.x); upgrade regen")
        if major not in READABLE_MAJORS:
            raise self._fail(f"unknown format version {major}.{minor}")
        self.version = (major, minor)
        self.file.seek(self.size - FOOTER.size)
        footer = self.file.read(FOOTER.size)
        header_offset, header_len, index_offset, count, data_crc, footer_crc, end = FOOTER.unpack(footer)
        if end != END_MAGIC or crc(footer[:28]) != footer_crc:
            raise self._fail("footer missing or damaged")
        if not (PREAMBLE.size <= header_offset and 0 < header_len <= MAX_HEADER
                and header_offset + header_len == index_offset
                and index_offset + 8 * count + FOOTER.size == self.size
                and 1 <= count <= (header_offset - PREAMBLE.size) // RECORD.size):
            raise self._fail("footer offsets are inconsistent with the file size")
        self.file.seek(header_offset)
        header_bytes = self.file.read(header_len)
        index_bytes = self.file.read(8 * count)
        if crc(header_bytes + index_bytes) != data_crc:
            raise self._fail("header or index checksum mismatch")
        try:
            self.header = RglHeader.from_json(header_bytes)
        except CorruptFile as exc:
            raise self._fail(str(exc)) from None
        if self.header.chunk_count() != count:
            raise self._fail("chunk count does not match the frame count")
        self.offsets = list(struct.unpack(f"<{count}Q", index_bytes)) + [header_offset]
        if self.offsets[0] != PREAMBLE.size or any(
                b - a < RECORD.size for a, b in zip(self.offsets, self.offsets[1:])):
            raise self._fail("chunk index is inconsistent")
        self.chunk_count = count

    def _record(self, index: int) -> tuple[bytes, int, int]:
        """Chunk `index`'s checked record: its zstd payload, coding and raw size in bytes."""
        if not 0 <= index < self.chunk_count:
            raise IndexError(f"chunk {index} of {self.chunk_count}")
        h = self.header
        start, end = self.offsets[index], self.offsets[index + 1]
        self.file.seek(start)
        head = self.file.read(RECORD.size)
        magic, number, frames, channels, lh, lw, length, payload_crc, coding, head_crc = RECORD.unpack(head)
        if magic != RECORD_MAGIC or crc(head[:28]) != head_crc:
            raise self._fail(f"chunk {index} record header damaged")
        if coding not in (latent_coding.CODINGS if self.version[0] >= 2 else (latent_coding.RAW,)):
            raise self._fail(f"chunk {index} has unknown latent coding {coding}")
        if (number != index or (frames, channels, lh, lw) != (h.latent_frames(), h.latent_channels,
                                                             h.latent_height, h.latent_width)
                or length != end - start - RECORD.size):
            raise self._fail(f"chunk {index} record does not match the header")
        payload = self.file.read(length)
        if len(payload) != length or crc(payload) != payload_crc:
            raise self._fail(f"chunk {index} payload checksum mismatch")
        return payload, coding, frames * channels * lh * lw

    def check_chunk(self, index: int) -> None:
        """Checks chunk `index` completely (CRCs, shape, compression), without rebuilding its
        latents: every residual decodes, so nothing past decompression can fail."""
        payload, _, expected = self._record(index)
        try:
            self.frames.check(payload, expected, f"chunk {index} payload")
        except CorruptFile as exc:
            raise self._fail(str(exc)) from None

    def check_all(self) -> None:
        """Checks every chunk: a damaged file is refused before any work is spent on it."""
        for index in range(self.chunk_count):
            self.check_chunk(index)

    def read_chunk(self, index: int) -> np.ndarray:
        """int8 (frames, channels, h, w) of chunk `index`, after checking its CRCs and shape."""
        h = self.header
        payload, coding, expected = self._record(index)
        try:
            raw = self.frames.decompress(payload, expected, f"chunk {index} payload")
        except CorruptFile as exc:
            raise self._fail(str(exc)) from None
        values = np.frombuffer(raw, dtype=np.int8).reshape(h.latent_frames(), h.latent_channels,
                                                            h.latent_height, h.latent_width)
        return latent_coding.decode(values) if coding == latent_coding.MED else values

    def close(self) -> None:
        self.file.close()

    def __enter__(self) -> "RglReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
