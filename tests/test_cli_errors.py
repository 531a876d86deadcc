"""Bad input gives one `error:` line and the documented exit code; outputs are never half-written."""

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import av
import numpy as np
import pytest
import torch
from click.testing import CliRunner

import regen_cli as regen
from regen_cli.files import decode as file_decode
from regen_cli.io import limits
from regen_cli.io import video as video_io
from regen_cli.cli import cli

from .conftest import save_untrained

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return save_untrained(tmp_path_factory.mktemp("m"))


@pytest.fixture(scope="module")
def rgl(tmp_path_factory, model):
    path = tmp_path_factory.mktemp("r") / "clip.rgl"
    assert invoke("encode", DATA / "balle-vp9.avi", path, "--ratio", 4, "--model", model, "-q").exit_code == 0
    return path


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def assert_error(result, code, words):
    assert result.exit_code == code, (result.exit_code, result.stderr)
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and result.stderr.strip().endswith(errors[0]) and "Traceback" not in result.output
    assert words in errors[0], errors[0]


def test_usage_errors(tmp_path, model, rgl):
    assert_error(invoke("encode", tmp_path / "missing.mp4", tmp_path / "o.rgl", "--model", model), 2, "not found")
    assert_error(invoke("encode", DATA / "realshort.mp4", tmp_path / "o.rgl", "--ratio", 5), 2, "ratio")
    assert_error(invoke("encode", DATA / "realshort.mp4", tmp_path / "o.rgl", "--model", tmp_path / "nope"), 2,
                 "neither a bundled model")
    assert_error(invoke("encode", DATA / "realshort.mp4", tmp_path / "o.mp4", "--model", model), 2, ".rgl")
    assert_error(invoke("decode", rgl, tmp_path / "o.gif", "--model", model), 2, "cannot write .gif")
    assert_error(invoke("decode", rgl, tmp_path / "o.mp4", "--model", model, "--tile", 12), 2, "multiple of 8")
    assert_error(invoke("bogus"), 2, "No such command")
    assert_error(invoke("decode", rgl, tmp_path / "o.mp4", "--model", model, "--temperature", 3), 2, "temperature")
    assert_error(invoke("decode", tmp_path / "missing.rgl", tmp_path / "o.mp4"), 2, "not found")


def test_interpolation_to_a_lower_frame_rate_is_refused_before_encoding(tmp_path, model, rgl, monkeypatch):
    monkeypatch.setattr(file_decode, "encode_file", lambda *a, **k: pytest.fail("encoded before checking --fps"))
    video = DATA / "balle-vp9.avi"          # variable rate: 12 frames in 0.0907 s, 132.25 fps on average
    assert_error(invoke("interpolate", video, tmp_path / "o.mp4", "--fps", 60, "--model", model), 2,
                 "--fps 60 is not above the input's 132.247 fps")
    assert_error(invoke("interpolate", rgl, tmp_path / "o.mp4", "--fps", "132.2", "--model", model), 2,
                 "is not above")
    assert not (tmp_path / "o.mp4").exists()


def test_existing_output_is_refused_unless_overwrite(tmp_path, model, rgl):
    out = tmp_path / "o.mkv"
    out.write_bytes(b"precious")
    assert_error(invoke("decode", rgl, out, "--model", model), 2, "--overwrite")
    assert out.read_bytes() == b"precious"
    assert invoke("decode", rgl, out, "--model", model, "-y", "-q").exit_code == 0
    assert out.read_bytes() != b"precious"


def test_outputs_get_ordinary_file_permissions(tmp_path, model, rgl):
    """Atomic writes go through 0600 temporary files; the results must not stay private."""
    umask = os.umask(0o022)
    try:
        out = tmp_path / "o.mkv"
        assert invoke("decode", rgl, out, "--model", model, "-q").exit_code == 0
        saved = tmp_path / "m.safetensors"
        regen.save_model(regen.build_model("regen-tiny-4x"), saved)
    finally:
        os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o644
    assert saved.stat().st_mode & 0o777 == 0o644


def test_unsupported_inputs(tmp_path, model, monkeypatch):
    text = tmp_path / "notes.mp4"
    text.write_text("this is not a video\n" * 50)
    assert_error(invoke("encode", text, tmp_path / "o.rgl", "--model", model), 5, "not a video")
    audio = tmp_path / "tone.wav"
    with av.open(str(audio), "w") as out:
        stream = out.add_stream("pcm_s16le", rate=8000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 800), np.int16), format="s16", layout="mono")
        frame.sample_rate = 8000
        out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    assert_error(invoke("encode", audio, tmp_path / "o.rgl", "--model", model), 5, "no video stream")
    empty = tmp_path / "empty.avi"
    with av.open(str(empty), "w") as out:
        stream = out.add_stream("mpeg4", rate=25)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        out.start_encoding()
    assert_error(invoke("encode", empty, tmp_path / "o.rgl", "--model", model), 5, "no decodable video frames")
    monkeypatch.setattr(limits, "MAX_SIDE", 100)
    assert_error(invoke("encode", DATA / "realshort.mp4", tmp_path / "o.rgl", "--model", model), 5, "not supported")
    assert not (tmp_path / "o.rgl").exists()


def test_corrupt_files_exit_3_without_output(tmp_path, model, rgl):
    data = rgl.read_bytes()
    bad = tmp_path / "bad.rgl"
    rng = np.random.default_rng(0)
    for cut in sorted(set(rng.integers(0, len(data), 12).tolist()) | {0, 15, len(data) - 1}):
        bad.write_bytes(data[:cut])
        assert_error(invoke("verify", bad), 3, "")
        assert_error(invoke("info", bad), 3, "")
    for pos in rng.integers(0, len(data), 12).tolist():
        flipped = bytearray(data)
        flipped[pos] ^= 0x10
        bad.write_bytes(bytes(flipped))
        assert_error(invoke("verify", bad), 3, "")
        result = invoke("decode", bad, tmp_path / "o.mkv", "--model", model)
        assert result.exit_code in (3, 4), result.stderr   # a flip in the model hash reads as a model mismatch
        assert not (tmp_path / "o.mkv").exists()


def test_wrong_model_exits_4(tmp_path, rgl):
    other = tmp_path / "other.safetensors"
    torch.manual_seed(1)
    regen.save_model(regen.build_model("regen-tiny-4x"), other)
    assert_error(invoke("decode", rgl, tmp_path / "o.mkv", "--model", other), 4, "not the model")
    assert_error(invoke("decode", rgl, tmp_path / "o.mkv"), 4, "--model PATH")
    assert not (tmp_path / "o.mkv").exists()


def test_corrupt_model_file_exits_3(tmp_path):
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(os.urandom(200))
    assert_error(invoke("encode", DATA / "realshort.mp4", tmp_path / "o.rgl", "--model", junk), 3, "safetensors")


def test_disk_full_exits_6_and_leaves_nothing(tmp_path, model, rgl, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(video_io.VideoWriter, "write", full)
    assert_error(invoke("decode", rgl, tmp_path / "o.mkv", "--model", model), 6, "disk full")
    assert list(tmp_path.iterdir()) == []


def test_sigkill_leaves_no_partial_output(tmp_path, model):
    rgl = tmp_path / "long.rgl"
    assert invoke("encode", DATA / "long-1200.mp4", rgl, "--ratio", 4, "--model", model, "-q").exit_code == 0
    out = tmp_path / "out.mkv"
    proc = subprocess.Popen([sys.executable, "-m", "regen_cli", "decode", str(rgl), str(out), "--model", str(model),
                             "-q"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while not list(tmp_path.glob(".out.mkv.*.tmp")) and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, "decode finished before it could be killed"
    time.sleep(0.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not out.exists()
    left = list(tmp_path.glob(".out.mkv.*.tmp"))
    assert len(left) == 1 and f"-{proc.pid}-" in left[0].name
    # the next run writing into this folder removes it (its writer is gone), and nothing else
    (tmp_path / ".keep.tmp").write_bytes(b"not regen's")
    assert invoke("decode", small_rgl(tmp_path, model), tmp_path / "other.mp4", "--model", model, "-q").exit_code == 0
    assert not left[0].exists() and (tmp_path / ".keep.tmp").exists()


def test_stale_temporaries_of_live_writers_and_other_hosts_are_kept(tmp_path):
    from regen_cli.io import atomic
    live = tmp_path / f".a.mp4.regen-{atomic._host()}-{os.getpid()}-abc.tmp"
    elsewhere = tmp_path / ".b.mp4.regen-otherhost-1-abc.tmp"
    old = tmp_path / ".c.mp4.regen-otherhost-1-abc.tmp"
    for path in (live, elsewhere, old):
        path.write_bytes(b"")
    os.utime(old, (time.time() - 2 * atomic.STALE_AFTER_S,) * 2)
    assert atomic.remove_stale_temporaries(tmp_path) == [old]
    assert live.exists() and elsewhere.exists()


def small_rgl(folder, model):
    """A 7-frame .rgl of a real clip, 48x32."""
    small, src = folder / "small.rgl", folder / "small.mkv"
    if not small.exists():
        with av.open(str(DATA / "long-1200.mp4")) as c, video_io.VideoWriter(src, 48, 32, 25) as w:
            for i, frame in enumerate(c.decode(video=0)):
                if i == 7:
                    break
                w.write(frame.to_ndarray(format="rgb24"))
        assert invoke("encode", src, small, "--ratio", 4, "--model", model, "-q").exit_code == 0
    return small


def test_every_truncation_and_bit_flip_exits_3_through_the_cli(tmp_path, model):
    data = small_rgl(tmp_path, model).read_bytes()
    bad = tmp_path / "bad.rgl"
    for cut in range(len(data)):
        bad.write_bytes(data[:cut])
        result = invoke("verify", bad)
        assert result.exit_code == 3 and "Traceback" not in result.output, (cut, result.stderr)
    rng = np.random.default_rng(1)
    for pos, bit in zip(rng.integers(0, len(data), 300).tolist(), rng.integers(0, 8, 300).tolist()):
        flipped = bytearray(data)
        flipped[pos] ^= 1 << bit
        bad.write_bytes(bytes(flipped))
        assert invoke("verify", bad).exit_code == 3, pos
