import random

import numpy as np
import pytest

from regen_cli.io.container import MAJOR, MINOR, RglHeader, RglReader, RglWriter
from regen_cli.errors import CorruptFile, UnsupportedInput


def header(**kw):
    base = dict(model_name="m", model_sha256="0" * 64, architecture="regen", ratio=4, latent_channels=8,
                latent_height=3, latent_width=5, width=37, height=20, frames=12, fps="30000/1001",
                time_base="1/90000", source_codec="h264", rotation_applied=0)
    base.update(kw)
    return RglHeader(**base)


def write(path, chunks, hdr):
    with open(path, "wb") as f:
        writer = RglWriter(f)
        for c in chunks:
            writer.add_chunk(c)
        return writer.finish(hdr)


def make_chunks(n=3, frames=2, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.integers(-127, 128, size=(frames, 8, 3, 5), dtype=np.int8) for _ in range(n)]


def test_round_trip_and_determinism(tmp_path):
    chunks = make_chunks()
    size = write(tmp_path / "a.rgl", chunks, header())
    write(tmp_path / "b.rgl", chunks, header())
    assert (tmp_path / "a.rgl").read_bytes() == (tmp_path / "b.rgl").read_bytes()
    assert size == (tmp_path / "a.rgl").stat().st_size
    with RglReader(tmp_path / "a.rgl") as r:
        assert r.header == header() and r.chunk_count == 3
        for i, c in enumerate(chunks):
            assert np.array_equal(r.read_chunk(i), c)
        assert np.array_equal(r.read_chunk(1), chunks[1])    # random access


def test_single_image_file_has_one_latent_frame(tmp_path):
    write(tmp_path / "i.rgl", make_chunks(1, frames=1), header(frames=1))
    with RglReader(tmp_path / "i.rgl") as r:
        assert r.read_chunk(0).shape == (1, 8, 3, 5)


def test_chunk_count_must_match_frames(tmp_path):
    with pytest.raises(ValueError):
        write(tmp_path / "x.rgl", make_chunks(2), header())


def _read_all(path):
    with RglReader(path) as r:
        for i in range(r.chunk_count):
            r.read_chunk(i)


def test_every_truncation_point_is_rejected(tmp_path):
    write(tmp_path / "a.rgl", make_chunks(), header())
    data = (tmp_path / "a.rgl").read_bytes()
    cut = tmp_path / "cut.rgl"
    for n in range(len(data)):
        cut.write_bytes(data[:n])
        with pytest.raises(CorruptFile):
            _read_all(cut)


def test_every_single_bit_flip_region_and_random_flips_are_rejected(tmp_path):
    write(tmp_path / "a.rgl", make_chunks(), header())
    data = (tmp_path / "a.rgl").read_bytes()
    bad = tmp_path / "bad.rgl"
    rng = random.Random(0)
    positions = list(range(len(data))) if len(data) < 4000 else rng.sample(range(len(data)), 4000)
    for pos in positions:
        flipped = bytearray(data)
        flipped[pos] ^= 1 << rng.randrange(8)
        bad.write_bytes(bytes(flipped))
        with pytest.raises(CorruptFile):
            _read_all(bad)
    for _ in range(200):   # several random flips at once
        flipped = bytearray(data)
        for _ in range(rng.randrange(2, 20)):
            flipped[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        bad.write_bytes(bytes(flipped))
        with pytest.raises(CorruptFile):
            _read_all(bad)


def test_newer_major_version_is_unsupported(tmp_path):
    import struct
    import zlib
    write(tmp_path / "a.rgl", make_chunks(), header())
    data = bytearray((tmp_path / "a.rgl").read_bytes())
    data[8:12] = struct.pack("<HH", MAJOR + 1, 0)
    data[12:16] = struct.pack("<I", zlib.crc32(bytes(data[:12])) & 0xFFFFFFFF)
    (tmp_path / "new.rgl").write_bytes(bytes(data))
    with pytest.raises(UnsupportedInput, match="upgrade"):
        RglReader(tmp_path / "new.rgl")


def test_not_an_rgl_file(tmp_path):
    (tmp_path / "x.rgl").write_bytes(b"hello world, this is not a latent file at all" * 3)
    with pytest.raises(CorruptFile, match="not an .rgl"):
        RglReader(tmp_path / "x.rgl")


def test_header_validation_rejects_nonsense():
    good = header().to_json()
    assert RglHeader.from_json(good) == header()
    for bad in [b"[]", b"{", header(ratio=5).to_json(), header(width=100).to_json(),
                header(fps="0/1").to_json(), good.replace(b'"frames":12', b'"frames":"12"')]:
        with pytest.raises(CorruptFile):
            RglHeader.from_json(bad)
    newer = good[:-1] + b',"future_field":1}'
    assert RglHeader.from_json(newer).extra == {"future_field": 1}


def test_decode_temperature_header_field():
    """Added in 2.1: optional (a 2.0 header without it decodes at 1), a number in [0, 2]."""
    assert RglHeader.from_json(header(decode_temperature=0.5).to_json()).decode_temperature == 0.5
    without = header().to_json().replace(b'"decode_temperature":1.0,', b"")
    assert b"decode_temperature" not in without and RglHeader.from_json(without).decode_temperature == 1.0
    assert RglHeader.from_json(header().to_json().replace(b'"decode_temperature":1.0', b'"decode_temperature":1'))
    for bad in (b"2.5", b"-0.1", b"true", b'"0.5"', b"NaN"):
        with pytest.raises(CorruptFile):
            RglHeader.from_json(header().to_json().replace(b'"decode_temperature":1.0', b'"decode_temperature":' + bad))


def _record_codings(path):
    import struct
    with RglReader(path) as r:
        codings = []
        for offset in r.offsets[:-1]:
            r.file.seek(offset)
            codings.append(struct.unpack("<4sIHHHHIIII", r.file.read(32))[8])
        return codings


def test_writer_stores_the_smaller_coding_per_chunk(tmp_path):
    y, x = np.mgrid[0:3, 0:5]
    smooth = np.broadcast_to((x + y)[None, None], (2, 8, 3, 5)).astype(np.int8) * 20
    chunks = [smooth, make_chunks(1, seed=3)[0], smooth]
    write(tmp_path / "a.rgl", chunks, header())
    assert _record_codings(tmp_path / "a.rgl") == [1, 0, 1]
    with RglReader(tmp_path / "a.rgl") as r:
        assert r.version == (MAJOR, MINOR) == (2, 2)
        for i, c in enumerate(chunks):
            assert np.array_equal(r.read_chunk(i), c)


def test_format_1_0_files_still_read():
    from pathlib import Path
    path = Path(__file__).parent / "data" / "format-1.0.rgl"     # written by regen's format 1.0 writer
    with RglReader(path) as r:
        assert r.version == (1, 0) and r.header == header()
        for i, c in enumerate(make_chunks(3, seed=7)):
            assert np.array_equal(r.read_chunk(i), c)


def test_unknown_coding_is_rejected(tmp_path):
    import struct
    import zlib
    write(tmp_path / "a.rgl", make_chunks(), header())
    data = bytearray((tmp_path / "a.rgl").read_bytes())
    record = 16                                                  # first record follows the preamble
    data[record + 24:record + 28] = struct.pack("<I", 7)
    data[record + 28:record + 32] = struct.pack("<I", zlib.crc32(bytes(data[record:record + 28])) & 0xFFFFFFFF)
    (tmp_path / "b.rgl").write_bytes(bytes(data))
    with pytest.raises(CorruptFile, match="unknown latent coding 7"):
        _read_all(tmp_path / "b.rgl")
