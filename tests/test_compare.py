"""`regen compare`: byte matching (codec bytes <= regen's, the next CRF down larger), report
fields, agreement with an independent measurement, valid PNGs, clear errors."""

import json
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from click.testing import CliRunner

import regen_cli as regen
from regen_cli.cli import cli
from regen_cli.cli.compare_command import _ratios
from regen_cli.eval import codecs as classical
from regen_cli.eval import pictures
from regen_cli.errors import MissingDependency

from .conftest import tiny_model

DATA = Path(__file__).parent / "data"
CLIP = DATA / "balle-vp9.avi"


def frames_of(path):
    with av.open(str(path)) as c:
        return np.stack([f.to_ndarray(format="rgb24") for f in c.decode(video=0)])


def psnr(a, b):
    mse = ((a.astype(np.float64) - b.astype(np.float64)) ** 2).mean(axis=(1, 2, 3))
    return float(np.mean(10 * np.log10(255.0 ** 2 / mse)))


@pytest.fixture(scope="module")
def small():
    """10 frames of a real clip at 64x48."""
    with av.open(str(CLIP)) as c:
        return np.stack([f.reformat(width=64, height=48, format="rgb24").to_ndarray()
                         for _, f in zip(range(10), c.decode(video=0))])


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("m")
    paths = {}
    for k in (4, 8):
        paths[k] = folder / f"tiny-{k}x.safetensors"
        regen.save_model(tiny_model(f"regen-tiny-{k}x"), paths[k])
    return paths


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def assert_error(result, code, words):
    assert result.exit_code == code, (result.exit_code, result.stderr)
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "Traceback" not in result.output, result.stderr
    assert words in errors[0], errors[0]


@pytest.mark.parametrize("name", ["x264", "svtav1"])
def test_match_is_the_smallest_crf_that_fits(small, name):
    codec = classical.CODECS[name]
    encodings = classical.Encodings(codec, small, Fraction(25))
    lo, hi = codec.crf_range
    budget = (encodings(lo + 12).bytes + encodings(lo + 20).bytes) // 2
    match = encodings.match(budget)
    assert match.bytes <= budget
    assert classical.encode(codec, small, Fraction(25), match.crf - 1).bytes > budget
    assert encodings.match(encodings(lo).bytes).crf == lo            # everything fits: best quality
    assert encodings.match(encodings(hi).bytes - 1) is None           # nothing fits
    again = classical.encode(codec, small, Fraction(25), match.crf)   # reproducible bytes
    assert again.packets == match.packets and again.frames.shape == small.shape


def test_odd_sizes_and_no_x264_info_sei(small):
    odd = small[:, :47, :63]
    enc = classical.encode(classical.CODECS["x264"], odd, Fraction(25), 30)
    assert enc.frames.shape == odd.shape
    assert not any(b"x264 - core" in p for p in enc.packets)
    assert classical.without_info(b"\x00\x00\x01\x65abc", b"x264 - core") == b"\x00\x00\x01\x65abc"


def test_codec_names():
    assert [c.name for c in classical.parse_codecs("x264, SVTAV1,x264")] == ["x264", "svtav1"]
    with pytest.raises(ValueError, match="unknown codec h266"):
        classical.parse_codecs("x264,h266")


def test_ratio_values_after_one_ratio_flag():
    assert _ratios((4,), (Path("a.mp4"), Path("8"), Path("16"))) == ([4, 8, 16], [Path("a.mp4")])
    assert _ratios((), (Path("a.mp4"),)) == ([4, 8, 16, 32], [Path("a.mp4")])


@pytest.fixture(scope="module")
def compared(tmp_path_factory, models):
    out = tmp_path_factory.mktemp("c") / "out"
    result = invoke("compare", CLIP, "--out", out, "--ratio", 4, "--model", models[4], "--codecs", "x264,svtav1",
                    "--max-side", 64, "--max-frames", 10, "-q")
    assert result.exit_code == 0, result.stderr
    return out, result


def test_report_and_table(compared):
    out, result = compared
    report = json.loads((out / "report.json").read_text())
    assert set(report["protocol"]["bytes"]) == {"regen", "codecs"}
    assert report["ratios"] == [4] and list(report["codecs"]) == ["x264", "svtav1"]
    video = report["videos"][0]
    assert (video["frames"], video["width"], video["height"]) == (10, 64, 48)
    row = video["regen"][0]
    assert row["bytes"] == Path(row["file"]).stat().st_size
    assert row["bpp"] == pytest.approx(8 * row["bytes"] / (10 * 64 * 48))
    assert {"psnr", "ssim", "psnr_no_extension", "interpolation", "extrapolation"} <= set(row)
    for name in ("x264", "svtav1"):
        m = video["matched"][name][0]
        assert m["bytes"] <= m["budget"] == row["bytes"]
        assert m["crf"] == classical.CODECS[name].crf_range[0] or m["next_crf_down_bytes"] > m["budget"]
        assert Path(m["file"]).stat().st_size == m["bytes"]         # the stream file is exactly what is counted
        assert [p["crf"] for p in video["sweep"][name]] == list(classical.CODECS[name].sweep)
    assert report["aggregate"]["ratios"]["4"]["regen"]["psnr"] == pytest.approx(row["psnr"])
    table = result.stdout
    assert "x264 dB" in table and f"{row['psnr']:.2f}" in table and "bytes: regen = the whole .rgl" in table


def test_psnr_agrees_with_an_independent_computation(compared, models):
    out, _ = compared
    report = json.loads((out / "report.json").read_text())
    video = report["videos"][0]
    reference = frames_of(video["reference"])
    m = video["matched"]["x264"][0]
    assert psnr(frames_of(m["file"]), reference) == pytest.approx(m["psnr"], abs=1e-6)   # FFmpeg's own demuxer
    row = video["regen"][0]
    decoded = out / "regen.mkv"
    assert invoke("decode", row["file"], decoded, "--model", models[4], "-q").exit_code == 0
    assert psnr(frames_of(decoded), reference) == pytest.approx(row["psnr"], abs=1e-6)


def test_pictures_are_pngs_of_the_expected_size(compared):
    pytest.importorskip("matplotlib")
    from PIL import Image
    out, _ = compared
    report = json.loads((out / "report.json").read_text())
    names = sorted(Path(p).name for p in report["pictures"])
    assert names == ["grid-balle-vp9-4x.png", "rd.png", "temporal-balle-vp9-4x.png", "xt-balle-vp9-4x.png"]
    sizes = {}
    for name in names:
        with Image.open(out / name) as image:
            assert image.format == "PNG"
            image.load()
            sizes[name] = image.size
    assert sizes["rd.png"] == (500, 400)                       # one panel
    assert sizes["grid-balle-vp9-4x.png"][0] == 4 * 320         # source, regen, x264, svtav1


def test_without_matplotlib_the_report_is_still_written(tmp_path, models, monkeypatch):
    def missing():
        raise MissingDependency(f"matplotlib is not installed, so no pictures can be drawn; {pictures.INSTALL}")
    monkeypatch.setattr(pictures, "require_matplotlib", missing)
    result = invoke("compare", CLIP, "--out", tmp_path, "--ratio", 4, "--model", models[4], "--codecs", "x264",
                    "--max-side", 32, "--max-frames", 6, "-q")
    assert_error(result, 5, 'pip install "regen[compare]"')
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["pictures"] == [] and "x264 dB" in result.stdout


def test_a_codec_missing_from_ffmpeg_is_skipped_and_said(tmp_path, models, monkeypatch):
    monkeypatch.setattr(av, "codecs_available", set(av.codecs_available) - {"libsvtav1"})
    result = invoke("compare", CLIP, "--out", tmp_path, "--ratio", 4, "--model", models[4], "--codecs",
                    "x264,svtav1", "--max-side", 32, "--max-frames", 6, "--no-pictures", "-q")
    assert result.exit_code == 0, result.stderr
    assert "warning: skipping svtav1: PyAV's FFmpeg has no libsvtav1" in result.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert list(report["codecs"]) == ["x264"] and "svtav1" in report["missing_codecs"]
    assert "not compared: svtav1" in result.stdout


def test_bad_input_gives_one_clear_error(tmp_path, models):
    base = ["--max-side", 32, "--max-frames", 6, "--no-pictures", "-q"]
    assert_error(invoke("compare", tmp_path / "missing.mp4", "--out", tmp_path / "o", *base), 2, "not found")
    assert_error(invoke("compare", CLIP, "--out", tmp_path / "o", "--codecs", "h266", *base), 2, "unknown codec")
    assert_error(invoke("compare", CLIP, "--out", tmp_path / "o", "--ratio", 4, "--ratio", 8, "--model", models[4],
                        *base), 2, "one --model per --ratio")
    assert_error(invoke("compare", CLIP, "--out", tmp_path / "o", "--ratio", 8, "--model", models[4],
                        "--codecs", "x264", *base), 2, "is a 4x model, not 8x")
    text = tmp_path / "notes.mp4"
    text.write_text("not a video")
    assert_error(invoke("compare", text, "--out", tmp_path / "o", "--model", models[4], "--ratio", 4, *base), 5,
                 "not a video")
    (tmp_path / "o").mkdir(exist_ok=True)
    (tmp_path / "o" / "report.json").write_text("{}")
    assert_error(invoke("compare", CLIP, "--out", tmp_path / "o", *base), 2, "--overwrite")
    assert_error(invoke("compare", CLIP, "--out", text, *base), 2, "is a file")
