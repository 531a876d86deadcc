"""encode -> verify -> info -> decode through the command line on real clips of every
container and codec, odd sizes, one frame, and a long clip; with small random-initialised
models saved as checkpoints (the pipeline does not care which weights it gets)."""

import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import regen_cli as regen
from regen_cli.cli import cli
from regen_cli.io.video import VideoReader, VideoWriter

from .conftest import tiny_model

DATA = Path(__file__).parent / "data"
CLIPS = ["realshort.mp4", "magnet-theora.ogv", "balle-vp9.avi", "tree-cinepak.avi", "vtest-msmpeg4.avi",
         "megamind-mpeg4.avi", "motion-h264.mov"]


@pytest.fixture(scope="session")
def models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    paths = {}
    for name in ("regen-tiny-4x", "regen-tiny-16x", "magvit2-tiny-4x"):
        paths[name] = folder / f"{name}.safetensors"
        regen.save_model(tiny_model(name, seed=1), paths[name])
    return paths


def run(*args, ok=True):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    if ok:
        assert result.exit_code == 0, result.output + result.stderr
    return result


def probe(path):
    with VideoReader(path) as r:
        frames = list(r.frames())
        return r.info, frames, r.timing()


def round_trip(src, tmp_path, model, ratio, out_name="out.mp4", extra=()):
    rgl, out = tmp_path / "x.rgl", tmp_path / out_name
    run("encode", src, rgl, "--ratio", ratio, "--model", model, "-q")
    assert "ok" in run("verify", rgl).stderr
    info = json.loads(run("info", rgl, "--json").stdout)
    run("decode", rgl, out, "--model", model, "-q", *extra)
    return info, rgl, out


@pytest.mark.parametrize("clip", CLIPS)
def test_round_trip_keeps_count_rate_and_size(clip, tmp_path, models):
    src_info, src_frames, src_timing = probe(DATA / clip)
    info, rgl, out = round_trip(DATA / clip, tmp_path, models["regen-tiny-4x"], 4)
    out_info, out_frames, out_timing = probe(out)
    assert len(out_frames) == len(src_frames) == info["frames"]
    assert (out_info.width, out_info.height) == (src_info.width, src_info.height) == (info["width"], info["height"])
    assert out_timing.variable == src_timing.variable
    assert [float(out_timing.time_at(i)) for i in range(len(src_frames))] == pytest.approx(
        [float(src_timing.time_at(i)) for i in range(len(src_frames))], abs=1e-4)
    assert float(out_timing.duration) == pytest.approx(float(src_timing.duration), abs=1e-4)
    assert info["bits_per_pixel"] == pytest.approx(8 * rgl.stat().st_size / (len(src_frames) * src_info.width * src_info.height))


def _write(path, frames, fps=Fraction(25)):
    with VideoWriter(path, frames[0].shape[1], frames[0].shape[0], fps) as w:
        for f in frames:
            w.write(f)


@pytest.mark.parametrize("out_name", ["out.mkv", "out.mp4"])
def test_odd_size_round_trip(tmp_path, models, out_name):
    _, frames, _ = probe(DATA / "realshort.mp4")
    src = tmp_path / "odd.mkv"
    _write(src, [f[:51, :75] for f in frames[:11]])
    _, _, out = round_trip(src, tmp_path, models["regen-tiny-4x"], 4, out_name)
    out_info, out_frames, _ = probe(out)
    assert (out_info.width, out_info.height, len(out_frames)) == (75, 51, 11)


def test_one_frame_round_trip(tmp_path, models):
    _, frames, _ = probe(DATA / "realshort.mp4")
    src = tmp_path / "one.mkv"
    _write(src, frames[:1])
    info, _, out = round_trip(src, tmp_path, models["regen-tiny-16x"], 16, "one-out.mkv")
    assert info["frames"] == 1 and info["latent_shape"][0] == 1
    assert len(probe(out)[1]) == 1


def test_long_clip_round_trip(tmp_path, models):
    info, _, out = round_trip(DATA / "long-1200.mp4", tmp_path, models["regen-tiny-16x"], 16)
    assert info["frames"] == 1200 and info["chunks"] == 71
    out_info, out_frames, _ = probe(out)
    assert len(out_frames) == 1200 and (out_info.width, out_info.height) == (48, 32)


def test_baseline_model_round_trip(tmp_path, models):
    info, _, out = round_trip(DATA / "balle-vp9.avi", tmp_path, models["magvit2-tiny-4x"], 4, "b.mkv")
    assert info["architecture"] == "magvit2" and len(probe(out)[1]) == 12


def test_encoding_is_deterministic_and_seeded_decoding_is_reproducible(tmp_path, models):
    model = models["regen-tiny-4x"]
    run("encode", DATA / "realshort.mp4", tmp_path / "a.rgl", "--ratio", 4, "--model", model, "-q")
    run("encode", DATA / "realshort.mp4", tmp_path / "b.rgl", "--ratio", 4, "--model", model, "-q")
    assert (tmp_path / "a.rgl").read_bytes() == (tmp_path / "b.rgl").read_bytes()
    for name, seed in [("s1.mkv", 5), ("s2.mkv", 5), ("s3.mkv", 6)]:
        run("decode", tmp_path / "a.rgl", tmp_path / name, "--model", model, "--seed", seed, "--steps", 2, "-q")
    a, b, c = (np.stack(probe(tmp_path / n)[1]) for n in ("s1.mkv", "s2.mkv", "s3.mkv"))
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    # --temperature 0 removes the noise, so the seed stops mattering; the JSON report names it
    for name, seed in [("t1.mkv", 5), ("t2.mkv", 6)]:
        report = run("decode", tmp_path / "a.rgl", tmp_path / name, "--model", model, "--seed", seed,
                     "--temperature", 0, "--json", "-q")
        assert json.loads(report.stdout)["temperature"] == 0
    t1, t2 = (np.stack(probe(tmp_path / n)[1]) for n in ("t1.mkv", "t2.mkv"))
    assert np.array_equal(t1, t2) and not np.array_equal(t1, a)


def test_tiled_and_untiled_decoding_agree_away_from_seams(tmp_path, models):
    model = models["regen-tiny-4x"]
    run("encode", DATA / "realshort.mp4", tmp_path / "a.rgl", "--ratio", 4, "--model", model, "-q")
    run("decode", tmp_path / "a.rgl", tmp_path / "whole.mkv", "--model", model, "--tile", 0, "-q")
    run("decode", tmp_path / "a.rgl", tmp_path / "tiled.mkv", "--model", model, "--tile", 128, "-q")
    whole, tiled = (np.stack(probe(tmp_path / n)[1]).astype(float) for n in ("whole.mkv", "tiled.mkv"))
    assert whole.shape == tiled.shape
    assert not np.array_equal(whole, tiled)      # tiles really were decoded separately
    assert np.abs(whole - tiled).mean() < 20     # same noise, same latents: close everywhere


@pytest.mark.parametrize("fps", [25, 50, 60])
def test_h264_outputs_at_integer_rates_hold_many_hard_frames(tmp_path, fps):
    """Regression: with one timestamp tick per frame, B-frame reordering made the mp4 muxer
    fail (EINVAL) after a few dozen frames, e.g. `regen interpolate --factor 2` of a 25 fps clip."""
    from fractions import Fraction

    import numpy as np

    from regen_cli.io.video import VideoReader, VideoWriter
    rng = np.random.default_rng(0)
    path = tmp_path / "noise.mp4"
    with VideoWriter(path, 64, 48, Fraction(fps)) as writer:
        for _ in range(80):
            writer.write(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8))
    with VideoReader(path) as reader:
        assert reader.info.fps == fps and sum(1 for _ in reader.frames()) == 80


def test_a_bundled_models_card_temperature_becomes_the_files_default(tmp_path, models, monkeypatch):
    import shutil

    from regen_cli.io import zoo
    weights = tmp_path / "weights"
    weights.mkdir()
    shutil.copy(models["regen-tiny-4x"], weights / "regen-4x.safetensors")
    (weights / "regen-4x.json").write_text(json.dumps({"ratio": 4, "decode_temperature": 0.0}))
    monkeypatch.setattr(zoo, "WEIGHTS", weights)
    run("encode", DATA / "realshort.mp4", tmp_path / "a.rgl", "--ratio", 4, "-q")
    info = json.loads(run("info", tmp_path / "a.rgl", "--json").stdout)
    assert info["decode_defaults"]["temperature"] == 0.0 and info["format_version"] == "2.2"
    reports = [json.loads(run("decode", tmp_path / "a.rgl", tmp_path / n, "--seed", s, *extra, "--json", "-q").stdout)
               for n, s, extra in [("a.mkv", 1, ()), ("b.mkv", 2, ()), ("c.mkv", 1, ("--temperature", 1))]]
    assert [r["temperature"] for r in reports] == [0.0, 0.0, 1.0]
    a, b, c = (np.stack(probe(tmp_path / n)[1]) for n in ("a.mkv", "b.mkv", "c.mkv"))
    assert np.array_equal(a, b) and not np.array_equal(a, c)     # no noise: the seed does not matter
    evaluated = json.loads(run("eval", DATA / "realshort.mp4", "--ratio", 4, "--max-side", 64, "--max-frames", 5,
                               "--json", "-q").stdout)
    assert evaluated["temperature"] == 0.0
