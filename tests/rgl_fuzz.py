"""A seeded mutation fuzzer for the `.rgl` reader.

    python -m tests.rgl_fuzz CORPUS_DIR --cases 10000 [--seed 0] [--seconds S] [--json]

Every case takes a file of the corpus (real `.rgl` files) and damages it one way: bit
flips, truncation, insertion, deletion (caught by the CRCs), or, with every CRC
recomputed so that the checks behind them are reached: header edits (wrong types,
Unicode digits, huge or negative numbers, deep nesting, NaN, long or unprintable text,
missing and unknown fields, raw byte edits), record edits (shape, coding, index), payload
edits (stated content sizes up to 2^62, a second zstd frame, truncated or foreign frames,
large zero chunks) and structural edits (records dropped, duplicated or swapped). It then
reads the file as `regen info`, `regen verify` and decoding do (header, every chunk,
latents rebuilt). A case passes when it ends normally or with regen's own CorruptFile or
UnsupportedInput; anything else is counted as unexpected, with its type. The report
gives the slowest case and the process's peak memory. Imports no torch.
"""

from __future__ import annotations

import argparse
import functools
import json
import random
import resource
import struct
import sys
import tempfile
import time
import zlib
from collections import Counter
from pathlib import Path

import zstandard

from regen_cli.errors import CorruptFile, UnsupportedInput
from regen_cli.files.inspect import file_info
from regen_cli.io.container import RglReader

from . import rgl_craft as craft

WEIRD_VALUES = [
    None, True, False, 0, -1, 1, 2, 3, 7, 8, 64, 4096, 1 << 31, 1 << 63, -(1 << 63), 1 << 64, 10 ** 30,
    0.5, -0.0, 1e308, float("nan"), float("inf"), "", "x", "²/1", "1/²", "٣/1", "30000/1001", "1/0", "0/1",
    "-1/2", " 1/2", "1/2 ", "1" * 4000 + "/1", "1/" + "9" * 30, "\u0000", "\ud800", "a\nb", "é" * 600,
    [], [1], [[1, 2]], [[1, 0]], [[0, 1]], [[1 << 40, 1]], [["1", 1]], {}, {"a": 1}, {"a": [[[]]]},
]
FIELDS = ["model_name", "model_sha256", "architecture", "ratio", "latent_channels", "latent_height",
          "latent_width", "width", "height", "frames", "fps", "time_base", "source_codec", "rotation_applied",
          "decode_steps", "decode_seed", "latent_extension", "decode_temperature", "quantization", "color",
          "regen_version", "frame_durations", "extra"]


def _flip(rng, data):
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        i = rng.randrange(len(out))
        out[i] ^= 1 << rng.randrange(8)
    return bytes(out)


def _truncate(rng, data):
    return data[:rng.randrange(len(data))]


def _insert(rng, data):
    i = rng.randrange(len(data) + 1)
    return data[:i] + rng.randbytes(rng.randint(1, 64)) + data[i:]


def _delete(rng, data):
    i = rng.randrange(len(data))
    return data[:i] + data[i + rng.randint(1, 64):]


def _header_value(rng, data):
    values = craft.split(data).header_json
    name = rng.choice(FIELDS)
    value = rng.choice(WEIRD_VALUES)
    if rng.random() < 0.15:
        values.pop(name, None)
    else:
        values[name] = value
    return craft.with_header(data, json.dumps(values).encode())


def _header_raw(rng, data):
    """Raw edits of the header text: nesting, long numbers, duplicate keys, byte noise."""
    header = craft.split(data).header
    kind = rng.randrange(6)
    if kind == 0:
        depth = rng.choice([17, 100, 5000, 200000])
        header = header[:-1] + b',"deep":' + b"[" * depth + b"]" * depth + b"}"
    elif kind == 1:
        header = header[:-1] + b',"big":' + b"9" * rng.choice([33, 4301, 100000]) + b"}"
    elif kind == 2:
        header = header[:-1] + b',"ratio":4}'
    elif kind == 3:
        header = header.replace(b'"fps":"', b'"fps":"' + rng.choice([b"1", b"0", b"\\u00b2"]), 1)
    elif kind == 4:
        header = header[:-1] + b',"x":"' + rng.randbytes(rng.randint(1, 32)) + b'"}'
    else:
        header = _flip(rng, header)
    return craft.with_header(data, header)


def _record_field(rng, data):
    parts = craft.split(data)
    record = rng.choice(parts.records)
    name = rng.choice(["index", "frames", "channels", "height", "width", "coding"])
    record[name] = rng.choice([0, 1, 2, 3, 7, 8, 9, 255, 4096, 65535] if name != "index" and name != "coding"
                              else [0, 1, 2, 5, 1 << 31, (1 << 32) - 1])
    return craft.join(parts)


def _payload(rng, data):
    parts = craft.split(data)
    chunk = rng.randrange(len(parts.records))
    payload = parts.records[chunk]["payload"]
    kind = rng.randrange(7)
    if kind == 0:
        payload = craft.zstd_frame_with_content_size(payload, rng.choice(
            [0, 1, len(payload), 1 << 20, 1 << 32, 1 << 40, 1 << 62, (1 << 64) - 2]))
    elif kind == 1:
        payload = payload + rng.choice([payload, zstandard.ZstdCompressor().compress(b"x")])
    elif kind == 2:
        payload = payload[:rng.randrange(len(payload))]
    elif kind == 3:
        payload = rng.randbytes(rng.randint(1, 300))
    elif kind == 4:
        payload = struct.pack("<II", 0x184D2A50, 4) + b"skip" + payload        # a skippable frame first
    elif kind == 5:
        payload = _flip(rng, payload)
    else:
        # a large chunk of zeros, stated honestly, under a header that claims a matching shape
        header = parts.header_json
        side = rng.choice([256, 1024, 2048, 4096])
        header.update(latent_width=side, latent_height=side, width=8 * side, height=8 * side,
                      latent_channels=rng.choice([8, 64]))
        parts.header = json.dumps(header).encode()
        frames = parts.records[chunk]["frames"]
        size = frames * header["latent_channels"] * side * side
        for r in parts.records:
            r.update(channels=header["latent_channels"], height=side, width=side)
        payload = _zeros_frame(size)
    parts.records[chunk]["payload"] = payload
    return craft.join(parts)


def _structure(rng, data):
    parts = craft.split(data)
    kind = rng.randrange(3)
    if kind == 0 and len(parts.records) > 1:
        del parts.records[rng.randrange(len(parts.records))]
    elif kind == 1:
        parts.records.insert(0, dict(parts.records[0]))
    elif len(parts.records) > 1:
        i, j = rng.sample(range(len(parts.records)), 2)
        parts.records[i], parts.records[j] = parts.records[j], parts.records[i]
    else:
        parts.version = (rng.choice([0, 1, 2, 3, 65535]), rng.choice([0, 1, 2, 3, 9, 65535]))
    return craft.join(parts)


@functools.lru_cache(maxsize=None)
def _zeros_frame(size: int) -> bytes:
    """One zstd frame of `size` zero bytes that states its size, compressed in pieces."""
    compressor = zstandard.ZstdCompressor(level=3).compressobj(size=size)
    block = bytes(1 << 20)
    out = [compressor.compress(block[:min(len(block), size - i)]) for i in range(0, size, len(block))]
    return b"".join(out) + compressor.flush()


MUTATIONS = [_flip, _truncate, _insert, _delete, _header_value, _header_value, _header_raw, _record_field,
             _payload, _payload, _structure]


def read_like_the_cli(path: Path) -> None:
    """What `regen info`, `regen verify` and decoding read: everything."""
    json.dumps(file_info(path)).encode("utf-8")
    with RglReader(path) as reader:
        reader.check_all()
        for index in range(reader.chunk_count):
            reader.read_chunk(index)
        reader.header.timing().duration


def peak_rss_mb() -> float:
    """This process image's peak resident memory: VmHWM (reset by exec, unlike ru_maxrss,
    which a child started from a large parent inherits)."""
    status = Path("/proc/self/status")
    for line in status.read_text().splitlines() if status.exists() else []:
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)    # not Linux


def fuzz(corpus: list[Path], cases: int, seed: int = 0, seconds: float = 0.0) -> dict:
    rng = random.Random(seed)
    seeds = [p.read_bytes() for p in corpus]
    outcomes: Counter = Counter()
    unexpected: list[str] = []
    slowest = (0.0, "")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "case.rgl"
        for case in range(cases):
            if seconds and time.perf_counter() - started > seconds:
                break
            source = rng.randrange(len(seeds))
            mutation = rng.choice(MUTATIONS)
            try:
                data = mutation(rng, seeds[source])
            except (IndexError, ValueError, struct.error, zlib.error):
                data = _flip(rng, seeds[source])
            path.write_bytes(data)
            t0 = time.perf_counter()
            try:
                read_like_the_cli(path)
                outcomes["read"] += 1
            except (CorruptFile, UnsupportedInput) as exc:
                outcomes[type(exc).__name__] += 1
            except Exception as exc:                                    # noqa: BLE001 - counted, reported
                outcomes["unexpected"] += 1
                unexpected.append(f"case {case} ({mutation.__name__} of {corpus[source].name}): "
                                  f"{type(exc).__name__}: {str(exc)[:120]}")
            elapsed = time.perf_counter() - t0
            if elapsed > slowest[0]:
                slowest = (elapsed, f"case {case} ({mutation.__name__} of {corpus[source].name})")
    done = sum(outcomes.values())
    return {"cases": done, "seed": seed, "outcomes": dict(outcomes), "unexpected": unexpected[:20],
            "unexpected_types": sorted({u.split(": ")[1] for u in unexpected}),
            "slowest_case_s": round(slowest[0], 4), "slowest_case": slowest[1],
            "peak_rss_mb": peak_rss_mb(),
            "wall_s": round(time.perf_counter() - started, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path, help="folder of .rgl files to mutate")
    parser.add_argument("--cases", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seconds", type=float, default=0.0, help="stop after this long (0: run every case)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    corpus = sorted(args.corpus.glob("*.rgl"))
    if not corpus:
        parser.error(f"no .rgl files in {args.corpus}")
    report = fuzz(corpus, args.cases, args.seed, args.seconds)
    if args.json:
        print(json.dumps(report))
    else:
        for key, value in report.items():
            print(f"{key}: {value}")
    return 1 if report["unexpected"] else 0


if __name__ == "__main__":
    sys.exit(main())
