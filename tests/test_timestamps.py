"""Output timestamps: every container gets the input's per-frame times and duration, for
constant- and variable-frame-rate input, read back with PyAV (not only counts and rates)."""

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from click.testing import CliRunner

from regen_cli.cli import cli
from regen_cli.io.container import RglReader
from regen_cli.io.timing import timing_from_timestamps
from regen_cli.io.video import VideoReader, VideoWriter

from .conftest import save_untrained

DATA = Path(__file__).parent / "data"
VFR_MS = [0, 40, 80, 400, 440, 800, 900, 1000]     # 8 frames over 1.04 s (the last lasts 40 ms)
OUTPUTS = (".mp4", ".mov", ".mkv")


def invoke(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result


def frame_times(path: Path) -> tuple[list[float], float]:
    """(start time of every frame in seconds from the first, end of the last frame)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = list(container.decode(stream))
        times = [float(f.pts * stream.time_base) for f in frames]
        last = frames[-1].duration or 0
    start = times[0]
    times = [t - start for t in times]
    step = float(last * stream.time_base) if last else times[-1] - times[-2]
    return times, times[-1] + step


def write_source(path: Path, pts_ms: list[int], ext_codec=("mp4", "libx264")) -> None:
    """A small real-content video whose frames start at `pts_ms` milliseconds."""
    with av.open(str(DATA / "realshort.mp4")) as src:
        images = [f.reformat(width=64, height=48, format="rgb24").to_ndarray()
                  for _, f in zip(range(len(pts_ms)), src.decode(video=0))]
    with av.open(str(path), "w", format=ext_codec[0]) as out:
        stream = out.add_stream(ext_codec[1], rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.time_base = stream.codec_context.time_base = Fraction(1, 1000)
        out.start_encoding()
        for image, pts in zip(images, pts_ms):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts, frame.time_base = pts, Fraction(1, 1000)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return save_untrained(tmp_path_factory.mktemp("m"))


@pytest.fixture(scope="module")
def vfr_video(tmp_path_factory):
    path = tmp_path_factory.mktemp("v") / "vfr.mp4"
    write_source(path, VFR_MS)
    times, end = frame_times(path)
    assert times == pytest.approx([t / 1000 for t in VFR_MS]) and end == pytest.approx(1.04)
    return path


@pytest.mark.parametrize("ext", OUTPUTS)
def test_writer_timestamps_in_every_container(tmp_path, ext):
    """25 fps: frame i at i/25 s; 12 frames last 0.48 s (.mkv's muxer imposes 1 ms ticks)."""
    path = tmp_path / f"o{ext}"
    with VideoWriter(path, 64, 48, Fraction(25)) as writer:
        for i in range(12):
            writer.write(np.full((48, 64, 3), 20 * i, np.uint8))
    times, end = frame_times(path)
    assert times == pytest.approx([i / 25 for i in range(12)], abs=1e-3)
    assert end == pytest.approx(0.48, abs=1e-3)


@pytest.mark.parametrize("ext", OUTPUTS)
def test_constant_rate_decode_keeps_times(tmp_path, model, ext):
    src = DATA / "realshort.mp4"                 # 36 frames at 45000/1499 fps
    invoke("encode", src, tmp_path / "c.rgl", "--model", model, "-q")
    invoke("decode", tmp_path / "c.rgl", tmp_path / f"c{ext}", "--model", model, "-q")
    times, end = frame_times(tmp_path / f"c{ext}")
    source_times, source_end = frame_times(src)
    assert len(times) == 36 and times == pytest.approx(source_times, abs=1e-3)
    assert end == pytest.approx(source_end, abs=1e-3)


@pytest.mark.parametrize("ext", OUTPUTS)
def test_variable_rate_decode_keeps_times(tmp_path, model, vfr_video, ext):
    invoke("encode", vfr_video, tmp_path / "v.rgl", "--model", model, "-q")
    with RglReader(tmp_path / "v.rgl") as reader:
        timing = reader.header.timing()
        assert reader.version == (2, 2) and timing.variable and float(timing.duration) == pytest.approx(1.04)
    invoke("decode", tmp_path / "v.rgl", tmp_path / f"v{ext}", "--model", model, "-q")
    times, end = frame_times(tmp_path / f"v{ext}")
    assert times == pytest.approx([t / 1000 for t in VFR_MS], abs=1e-3)
    assert end == pytest.approx(1.04, abs=0.04)                # within one frame
    with av.open(str(tmp_path / f"v{ext}")) as container:     # what players show (B-frames: 0.98 s in .mp4, .mov)
        assert container.duration / 1e6 == pytest.approx(1.04, abs=2e-3)


def test_variable_rate_interpolation_and_extrapolation_follow_the_source_times(tmp_path, model, vfr_video):
    invoke("encode", vfr_video, tmp_path / "v.rgl", "--model", model, "-q")
    invoke("interpolate", tmp_path / "v.rgl", tmp_path / "i.mkv", "--factor", 2, "--model", model, "-q")
    times, _ = frame_times(tmp_path / "i.mkv")
    midpoints = [(a + b) / 2000 for a, b in zip(VFR_MS, VFR_MS[1:])]
    expected = sorted([t / 1000 for t in VFR_MS] + midpoints)
    assert times == pytest.approx(expected, abs=1e-3)
    invoke("extrapolate", tmp_path / "v.rgl", tmp_path / "x.mp4", "--future", 2, "--past", 1, "--model", model, "-q")
    times, _ = frame_times(tmp_path / "x.mp4")
    # one frame before (at the first frame's 40 ms), the source, two after (at the last's 40 ms)
    expected = [0] + [t / 1000 + 0.04 for t in VFR_MS] + [1.08, 1.12]
    assert times == pytest.approx(expected, abs=1e-3)


def test_info_reports_the_true_duration(tmp_path, model, vfr_video):
    invoke("encode", vfr_video, tmp_path / "v.rgl", "--model", model, "-q")
    import json
    info = json.loads(invoke("info", tmp_path / "v.rgl", "--json").output)
    assert info["variable_frame_rate"] is True and info["duration_s"] == pytest.approx(1.04)
    assert Fraction(info["fps"]) == Fraction(8, 1) / Fraction(104, 100)


def test_vfr_source_is_read_as_variable_rate(vfr_video):
    with VideoReader(vfr_video) as reader:
        assert sum(1 for _ in reader.frames()) == 8
        timing = reader.timing()
    assert timing.variable and [float(timing.time_at(i)) for i in range(8)] == pytest.approx(
        [t / 1000 for t in VFR_MS])


def test_timing_rules():
    tb = Fraction(1, 1000)
    # Matroska's 1 ms rounding of 29.97 fps is constant rate, at the stream's rate
    rounded = [round(i * 1001 / 30) for i in range(30)]
    timing = timing_from_timestamps(rounded, 33, tb, Fraction(30000, 1001))
    assert not timing.variable and timing.fps == Fraction(30000, 1001)
    # where a tick is a frame, a step of two ticks is a dropped frame: variable rate
    timing = timing_from_timestamps([0, 1, 2, 4, 5], 1, Fraction(1, 25), Fraction(25))
    assert timing.variable and timing.duration == Fraction(6, 25)
    # missing or decreasing timestamps: the stream's rate
    assert timing_from_timestamps([0, None, 2], 1, tb, Fraction(24)).fps == Fraction(24)
    assert not timing_from_timestamps([0, 80, 40], 40, tb, Fraction(24)).variable
