"""Crafting `.rgl` files for the hardening tests: take a real file apart, change a header
byte string, a record field or a payload, and put it back together with every CRC
recomputed, so the reader's checks after the CRCs are what gets tested."""

from __future__ import annotations

import json
import struct
import zlib
from dataclasses import dataclass, field

from regen_cli.io.container import END_MAGIC, FOOTER, PREAMBLE, RECORD

RECORD_FIELDS = ("magic", "index", "frames", "channels", "height", "width", "length", "payload_crc", "coding",
                 "head_crc")


def crc(data: bytes) -> int:
    return zlib.crc32(data) & 0xFFFFFFFF


@dataclass
class Parts:
    preamble: bytes
    records: list[dict]                 # RECORD fields by name, plus "payload"
    header: bytes
    version: tuple[int, int] = (2, 2)
    extra_tail: bytes = b""
    notes: dict = field(default_factory=dict)

    @property
    def header_json(self) -> dict:
        return json.loads(self.header)


def split(data: bytes) -> Parts:
    """A valid .rgl's bytes -> its parts."""
    _, major, minor, _ = PREAMBLE.unpack(data[:PREAMBLE.size])
    header_offset, header_len, index_offset, count, _, _, _ = FOOTER.unpack(data[-FOOTER.size:])
    offsets = list(struct.unpack(f"<{count}Q", data[index_offset:index_offset + 8 * count])) + [header_offset]
    records = []
    for start, end in zip(offsets, offsets[1:]):
        values = dict(zip(RECORD_FIELDS, RECORD.unpack(data[start:start + RECORD.size])))
        values["payload"] = data[start + RECORD.size:end]
        records.append(values)
    return Parts(data[:PREAMBLE.size], records, data[header_offset:header_offset + header_len], (major, minor))


def join(parts: Parts, fix_lengths: bool = True) -> bytes:
    """Parts -> bytes with every CRC (and, if `fix_lengths`, every record length) recomputed."""
    body = parts.preamble[:8] + struct.pack("<HH", *parts.version)
    out = bytearray(body + struct.pack("<I", crc(body)))
    offsets = []
    for r in parts.records:
        payload = r["payload"]
        length = len(payload) if fix_lengths else r["length"]
        head = RECORD.pack(r["magic"], r["index"], r["frames"], r["channels"], r["height"], r["width"], length,
                           crc(payload), r["coding"], 0)[:28]
        offsets.append(len(out))
        out += head + struct.pack("<I", crc(head)) + payload
    header_offset = len(out)
    index = struct.pack(f"<{len(offsets)}Q", *offsets)
    footer = FOOTER.pack(header_offset, len(parts.header), header_offset + len(parts.header), len(offsets),
                         crc(parts.header + index), 0, END_MAGIC)[:28]
    out += parts.header + index + footer + struct.pack("<I", crc(footer)) + END_MAGIC
    return bytes(out)


def with_header(data: bytes, header: bytes | dict) -> bytes:
    parts = split(data)
    parts.header = header if isinstance(header, bytes) else json.dumps(header).encode()
    return join(parts)


def with_header_fields(data: bytes, **changes) -> bytes:
    parts = split(data)
    values = parts.header_json
    values.update(changes)
    parts.header = json.dumps(values).encode()
    return join(parts)


def with_payload(data: bytes, chunk: int, payload: bytes, **record_fields) -> bytes:
    parts = split(data)
    parts.records[chunk]["payload"] = payload
    parts.records[chunk].update(record_fields)
    return join(parts)


def zstd_frame_with_content_size(payload: bytes, size: int) -> bytes:
    """A zstd frame's header rewritten to state `size` bytes of content (8-byte field)."""
    # frame header: magic (4) | descriptor (1) | [window (1)] | [dict id] | content size
    descriptor = payload[4]
    single_segment = descriptor >> 5 & 1
    fcs_code = descriptor >> 6
    fcs_bytes = (1 if single_segment else 0, 2, 4, 8)[fcs_code]
    start = 5 + (0 if single_segment else 1) + (0, 1, 2, 4)[descriptor & 3]
    rest = payload[start + fcs_bytes:]
    new_descriptor = (3 << 6) | (descriptor & 0b00111111 & ~(1 << 5))       # 8-byte size, window byte
    window = bytes([0x58])                                                    # 2^(10+11) = 2 MiB
    return payload[:4] + bytes([new_descriptor]) + window + payload[5 + (0 if single_segment else 1):start] \
        + struct.pack("<Q", size) + rest
