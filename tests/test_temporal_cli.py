"""interpolate / extrapolate: exact frame counts, rates and durations; video and .rgl inputs; multi-chunk."""

import json
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

import regen_cli as regen
from regen_cli.cli import cli
from regen_cli.io.video import VideoReader
from regen_cli.io.zoo import resolve_model

from .conftest import tiny_model

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = tmp_path_factory.mktemp("m") / "tiny.safetensors"
    regen.save_model(tiny_model("regen-tiny-4x"), path)
    return path


def run(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def probe(path):
    """(the video's timing: average rate and duration from its frames' timestamps, frames)."""
    with VideoReader(path) as r:
        frames = sum(1 for _ in r.frames())
        return r.timing(), frames


@pytest.mark.parametrize("factor", ["2", "3"])
def test_interpolate_video_input_multi_chunk(tmp_path, model, factor):
    src = DATA / "balle-vp9.avi"                  # 12 frames: chunks of 5, 5, 2
    source, n = probe(src)
    out = tmp_path / "i.mp4"
    report = run("interpolate", src, out, "--factor", factor, "--ratio", 4, "--model", model, "--json", "-q")
    info, frames = probe(out)
    f = int(factor)
    assert frames == report["frames"] == (n - 1) * f + 1
    # same span of time, each source frame at its own time (this clip is variable-rate)
    assert [float(info.time_at(i * f)) for i in range(n)] == pytest.approx(
        [float(source.time_at(i)) for i in range(n)], abs=1e-4)


def test_interpolate_rgl_input_to_target_fps(tmp_path, model):
    rgl = tmp_path / "x.rgl"
    CliRunner().invoke(cli, ["encode", str(DATA / "magnet-theora.ogv"), str(rgl), "--ratio", "4", "--model", str(model), "-q"])
    out = tmp_path / "i.mkv"
    for src in (rgl, DATA / "magnet-theora.ogv"):                  # the .rgl and the video it came from
        report = run("interpolate", src, out, "--fps", "50", "--model", model, "--ratio", 4, "--json", "-q", "-y")
        info, frames = probe(out)
        assert float(info.fps) == pytest.approx(50) and frames == (34 - 1) * 2 + 1 == report["frames"]


def test_interpolate_refuses_bad_factors(tmp_path, model):
    for args in (["--factor", "1"], ["--factor", "x"], [], ["--factor", "2", "--fps", "50"]):
        result = CliRunner().invoke(cli, ["interpolate", str(DATA / "balle-vp9.avi"), str(tmp_path / "o.mp4"),
                                          "--model", str(model), "--ratio", "4", *args])
        assert result.exit_code == 2 and result.stderr.strip().splitlines()[-1].startswith("error: ")


@pytest.mark.parametrize("future,past,only_new", [(3, 0, False), (7, 2, False), (11, 6, True)])
def test_extrapolate_counts(tmp_path, model, future, past, only_new):
    src = DATA / "balle-vp9.avi"
    source, n = probe(src)
    out = tmp_path / "e.mkv"
    args = ["extrapolate", src, out, "--future", future, "--past", past, "--ratio", 4, "--model", model, "--json", "-q"]
    report = run(*args, *(["--only-new"] if only_new else []))
    info, frames = probe(out)
    assert frames == report["frames"] == future + past + (0 if only_new else n)
    # only new frames: at the source's average rate; else the source's own times, extended
    # at its first and last frames' durations (this clip is variable-rate; .mkv has 1 ms ticks)
    expected = (frames / source.fps if only_new else source.duration + past * source.time_at(1)
                + future * (source.time_at(n) - source.time_at(n - 1)))
    assert float(info.duration) == pytest.approx(float(expected), abs=1e-3 * frames)


def test_extrapolate_on_long_clip_and_baseline_refused(tmp_path, model):
    report = run("extrapolate", DATA / "long-1200.mp4", tmp_path / "e.mp4", "--future", 8, "--ratio", 4,
                 "--model", model, "--json", "-q")
    assert report["frames"] == 1208
    baseline = tmp_path / "b.safetensors"
    regen.save_model(regen.build_model("magvit2-tiny-4x"), baseline)
    result = CliRunner().invoke(cli, ["extrapolate", str(DATA / "balle-vp9.avi"), str(tmp_path / "b.mp4"),
                                      "--future", "2", "--ratio", "4", "--model", str(baseline)])
    assert result.exit_code == 2 and "REGEN model" in result.stderr


def test_python_api_equivalents(model):
    m = regen.load_model(model)
    latents = regen.encode(m, torch.rand(3, 12, 24, 40) * 2 - 1)
    assert regen.interpolate(m, latents, 2).shape == (3, 23, 24, 40)
    before, video, after = regen.extrapolate(m, latents, future=6, past=3)
    assert before.shape[1] == 3 and video.shape[1] == 12 and after.shape[1] == 6


def test_forward_prediction_from_a_partial_last_chunk_starts_from_the_source_frames(model):
    m = regen.load_model(model)
    torch.manual_seed(1)
    video = torch.rand(3, 12, 24, 40) * 2 - 1                # 4x chunks of 5, 5, 2: the last is partial
    with torch.no_grad():
        *_, with_tail = regen.extrapolate(m, regen.encode(m, video), future=1, tail=video[:, -5:])
        *_, from_tail_alone = regen.extrapolate(m, regen.encode(m, video[:, -5:]), future=1)
        *_, without = regen.extrapolate(m, regen.encode(m, video), future=1)
    assert torch.equal(with_tail, from_tail_alone)               # the same latents and noise: the same frame
    assert not torch.allclose(with_tail, without, atol=1e-5)     # not from the re-encoded decoded frames


def test_extrapolate_cli_predicts_from_a_video_inputs_own_last_frames(tmp_path):
    from regen_cli.io.frames import to_model_range, to_uint8
    from benchmarks.bench import read_all
    src = DATA / "balle-vp9.avi"                                  # 12 frames: its last 4x chunk is partial
    rgl = tmp_path / "b.rgl"
    run("encode", src, rgl, "--ratio", 4, "--json", "-q")           # the bundled regen-4x
    outputs = {}
    for name, inp in (("video", src), ("rgl", rgl)):
        outputs[name] = tmp_path / f"{name}.mkv"
        run("extrapolate", inp, outputs[name], "--future", 1, "--only-new", "--ratio", 4, "--json", "-q")
    ref = resolve_model(None, 4)
    m = regen.load_model(ref.path)
    source = to_model_range(read_all(src))
    with torch.no_grad():     # the CLI samples at the model's default temperature; the API's default is 1
        *_, expected = regen.extrapolate(m, regen.encode(m, source), future=1, tail=source[:, -5:],
                                         temperature=ref.temperature)
    expected = to_uint8(expected).numpy()[0].astype(int)
    video_frame, rgl_frame = (read_all(outputs[n])[0].astype(int) for n in ("video", "rgl"))
    assert abs(video_frame - expected).mean() < 1.0               # what the API gives with the source tail
    assert abs(rgl_frame - expected).mean() > abs(video_frame - expected).mean() + 0.5


class RecordingDecoder:
    """Stands in for ChunkDecoder: records the times of each call, returns frames filled with their time."""
    device = torch.device("cpu")

    def __init__(self):
        self.calls = []

    def decode(self, index, z_c, z_m, times):
        self.calls.append(list(times))
        return torch.tensor(times).view(1, -1, 1, 1).expand(3, -1, 8 * z_c.shape[-2], 8 * z_c.shape[-1]).clone()


@pytest.mark.parametrize("ratio,count,forward,calls,predicted", [
    (4, 2, True, [[5.0, 4.0], [5.0, 4.0]], [5.0, 5.0]),        # horizon 1: every step pairs its frame with time k
    (4, 2, False, [[-1.0, 0.0], [-1.0, 0.0]], [-1.0, -1.0]),   # ... going backwards, with time 0
    (8, 3, True, [[9.0, 10.0], [9.0, 10.0]], [9.0, 10.0, 9.0]),  # horizon 2: the last step decodes its whole group
    (8, 3, False, [[-1.0, -2.0], [-1.0, -2.0]], [-1.0, -2.0, -1.0]),
])
def test_every_prediction_step_decodes_its_whole_group_and_at_4x_a_companion_frame(ratio, count, forward, calls,
                                                                                  predicted):
    from regen_cli.codec.temporal import extend
    m = regen.build_model(f"regen-tiny-{ratio}x").eval()
    decoder = RecordingDecoder()
    frames = list(extend(m, torch.zeros(3, ratio + 1, 16, 16), count, forward, decoder))
    assert decoder.calls == calls
    assert [float(f[0, 0, 0]) for f in frames] == predicted        # only the frames asked for, nearest first


@pytest.mark.parametrize("ratio", [4, 8])
def test_a_shorter_prediction_is_the_start_of_a_longer_one(ratio):
    m = tiny_model(f"regen-tiny-{ratio}x").eval()
    latents = regen.encode(m, torch.rand(3, 2 * ratio + 2, 16, 24) * 2 - 1)
    with torch.no_grad():
        before3, _, after3 = regen.extrapolate(m, latents, future=3, past=3)
        before5, _, after5 = regen.extrapolate(m, latents, future=5, past=5)
    assert torch.equal(after3, after5[:, :3]) and torch.equal(before3, before5[:, -3:])
