"""Crafted `.rgl` files that once crashed, exhausted or stalled the reader: each is now a
clean CorruptFile (exit 3 from the CLI) in bounded time and memory. Every file is built
from a real encoded file with every CRC recomputed, so the checks behind the CRCs are what
is tested. Also the seeded mutation fuzzer (tests/rgl_fuzz.py), run for a bounded time."""

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from regen_cli.cli import cli
from regen_cli.errors import CorruptFile
from regen_cli.files.inspect import file_info, verify_file
from regen_cli.io.container import RglHeader, RglReader, RglWriter

from . import rgl_craft as craft
from .rgl_fuzz import _zeros_frame

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Real files: a 1.0 file, a constant-rate and a variable-rate encode, a one-frame image."""
    folder = tmp_path_factory.mktemp("corpus")
    (folder / "format-1.0.rgl").write_bytes((DATA / "format-1.0.rgl").read_bytes())
    for clip, ratio in (("realshort.mp4", 16), ("tree-cinepak.avi", 4)):
        result = CliRunner().invoke(cli, ["encode", str(DATA / clip), str(folder / f"{clip}.rgl"), "--ratio",
                                          str(ratio), "-q"])
        assert result.exit_code == 0, result.output
    header = RglHeader(model_name="regen-4x", model_sha256="0" * 64, architecture="regen", ratio=4,
                       latent_channels=8, latent_height=4, latent_width=6, width=44, height=30, frames=1,
                       fps="25/1", time_base="1/25", source_codec="png", rotation_applied=0)
    with open(folder / "image.rgl", "wb") as f:
        writer = RglWriter(f)
        y, x = np.mgrid[0:4, 0:6]
        writer.add_chunk(np.broadcast_to((x + y)[None, None] * 9, (1, 8, 4, 6)).astype(np.int8))
        writer.finish(header)
    return folder


@pytest.fixture(scope="module")
def real(corpus):
    return (corpus / "realshort.mp4.rgl").read_bytes()


def refused(tmp_path, data: bytes, words: str = "", seconds: float = 5.0, in_chunk: bool = False) -> None:
    """`data` is refused as corrupt by the library (info, which reads the header, unless the
    damage is `in_chunk`, and verify) and by the CLI (exit 3)."""
    path = tmp_path / "crafted.rgl"
    path.write_bytes(data)
    t0 = time.perf_counter()
    for read in (verify_file,) if in_chunk else (file_info, verify_file):
        with pytest.raises(CorruptFile) as caught:
            read(path)
        assert words in str(caught.value), str(caught.value)
    result = CliRunner().invoke(cli, ["verify", str(path)])
    assert result.exit_code == 3 and "Traceback" not in result.output, result.output
    assert time.perf_counter() - t0 < seconds


def test_the_base_file_is_valid(tmp_path, real):
    path = tmp_path / "ok.rgl"
    path.write_bytes(craft.join(craft.split(real)))                # the crafting itself changes nothing
    assert path.read_bytes() == real and verify_file(path)["ok"]


def test_extra_that_is_not_an_object(tmp_path, real):
    refused(tmp_path, craft.with_header_fields(real, extra=[1, 2]), "'extra' is not an object")


@pytest.mark.parametrize("name,value", [("fps", "²/1"), ("fps", "30000/١٠٠١"), ("time_base", "1/²"),
                                        ("fps", "1" * 4000 + "/1"), ("fps", "0/1"), ("fps", "1/0"),
                                        ("fps", "100000/1"), ("fps", " 25/1")])
def test_fractions_are_ascii_bounded_and_representable(tmp_path, real, name, value):
    refused(tmp_path, craft.with_header_fields(real, **{name: value}), name)


def test_an_integer_of_thousands_of_digits(tmp_path, real):
    header = craft.split(real).header
    refused(tmp_path, craft.with_header(real, header[:-1] + b',"big":' + b"9" * 4301 + b"}"), "number")
    refused(tmp_path, craft.with_header(real, header.replace(b'"frames":', b'"frames":' + b"1" * 5000, 1)),
            "number")


def test_a_deeply_nested_header(tmp_path, real):
    header = craft.split(real).header
    deep = header[:-1] + b',"deep":' + b"[" * 200_000 + b"]" * 200_000 + b"}"
    refused(tmp_path, craft.with_header(real, deep), "nests")


@pytest.mark.parametrize("changes,words", [
    ({"decode_temperature": float("nan")}, "NaN"),
    ({"model_name": "\ud800"}, "printable"),
    ({"model_name": "a\x1b[2Jb"}, "printable"),
    ({"model_sha256": "z" * 64}, "SHA-256"),
    ({"architecture": "other"}, "architecture"),
    ({"latent_channels": 64}, "channels"),
    ({"rotation_applied": 45}, "rotation"),
    ({"decode_seed": 1 << 63}, "seed"),
    ({"frame_durations": [[1, 1]]}, "frame_durations"),
    ({"frame_durations": [[0, 36]]}, "frame_durations"),
    ({"frame_durations": "x"}, "wrong type"),
])
def test_header_fields_are_typed_and_ranged(tmp_path, real, changes, words):
    refused(tmp_path, craft.with_header_fields(real, **changes), words)


def test_duplicate_keys(tmp_path, real):
    header = craft.split(real).header
    refused(tmp_path, craft.with_header(real, header[:-1] + b',"ratio":16}'), "twice")


@pytest.mark.parametrize("size", [1 << 40, 1 << 62, 1 << 20, 0])
def test_a_zstd_frame_stating_a_huge_size_is_refused_before_allocating(tmp_path, real, size):
    payload = craft.split(real).records[0]["payload"]
    refused(tmp_path, craft.with_payload(real, 0, craft.zstd_frame_with_content_size(payload, size)), "states",
            in_chunk=True)


def test_two_concatenated_zstd_frames(tmp_path, real):
    payload = craft.split(real).records[0]["payload"]
    refused(tmp_path, craft.with_payload(real, 0, payload + payload), "more than one zstd frame", in_chunk=True)


def test_latent_limits_agree_with_the_video_reader(tmp_path, real):
    """Side 4096 (32768-pixel video) and 64 channels used to pass; now the size a video may
    have (at most 16384 a side, 8192 x 8192 pixels) bounds the latents, refused on open."""
    parts = craft.split(real)
    header = parts.header_json
    header.update(latent_width=4096, latent_height=4096, width=32768, height=32768)
    parts.header = json.dumps(header).encode()
    parts.records = parts.records[:1]
    parts.records[0].update(height=4096, width=4096, payload=_zeros_frame(2 * 8 * 4096 * 4096))
    header["frames"] = 17
    parts.header = json.dumps(header).encode()
    refused(tmp_path, craft.join(parts), "larger than regen reads")


def test_the_largest_legal_chunk_is_checked_quickly(tmp_path, real):
    """8192 x 8192 pixels: 16 MiB of zeros in one chunk, MED coded; verify and read it."""
    parts = craft.split(real)
    header = parts.header_json
    header.update(latent_width=1024, latent_height=1024, width=8192, height=8192, frames=17)
    header.pop("frame_durations", None)
    parts.header = json.dumps(header).encode()
    parts.records = parts.records[:1]
    parts.records[0].update(height=1024, width=1024, coding=1, payload=_zeros_frame(2 * 8 * 1024 * 1024))
    path = tmp_path / "large.rgl"
    path.write_bytes(craft.join(parts))
    assert path.stat().st_size < 1 << 20
    t0 = time.perf_counter()
    assert verify_file(path)["ok"]
    with RglReader(path) as reader:
        assert reader.read_chunk(0).shape == (2, 8, 1024, 1024)
    assert time.perf_counter() - t0 < 10


def test_fuzzing_ends_only_in_regen_errors(corpus):
    """The mutation fuzzer for about 40 s in a process without torch: no exception but
    CorruptFile or UnsupportedInput, no case over 5 s, under 1 GB."""
    result = subprocess.run([sys.executable, "-m", "tests.rgl_fuzz", str(corpus), "--cases", "100000",
                             "--seconds", "40", "--seed", "0", "--json"], cwd=ROOT, capture_output=True, text=True,
                            timeout=300)
    report = json.loads(result.stdout)
    assert report["unexpected"] == [], report["unexpected"]
    assert report["cases"] >= 1000 and report["slowest_case_s"] < 5 and report["peak_rss_mb"] < 1024, report
    assert report["outcomes"].get("read", 0) > 0 and report["outcomes"]["CorruptFile"] > report["cases"] / 2
