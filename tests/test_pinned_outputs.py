"""Behaviour pinned across refactors: for a fixed clip and bundled model, the `.rgl` bytes and
the decoded, extrapolated frames hash to the digests the code gave before the package was
reorganised (measured with that code on this clip: encode, decode, and extrapolate from a
video input, whose last chunk is partial and whose chunks use latent extension).
Format 2.2 changed the `.rgl` digest only: this clip is variable-rate, so its header now
holds its frame durations; its chunk records are byte-for-byte those of 2.1."""

import hashlib
from pathlib import Path

import av
import numpy as np
from click.testing import CliRunner

from regen_cli.cli import cli

CLIP = Path(__file__).parent / "data" / "tree-cinepak.avi"    # 12 frames, 320x240: 4x chunks of 5, 5, 2
DIGESTS = {
    "rgl": "0b9041ad68fea17713e29f27cb9d1bcd923228a60b25bb22f072d4fd9d656d2a",
    "decode": "3a143118223c86fbd8703afcd911b9ecb9f7feeb98dd778aca6529faf220a5bb",
    "extrapolate": "52b0d7920e09ce9a16bd27f22f6002247544e4b90f1752d512e0a542783a0a50",
}


def run(*args) -> None:
    result = CliRunner().invoke(cli, [str(a) for a in args] + ["-q", "-y"])
    assert result.exit_code == 0, result.output


def frames_digest(path: Path) -> str:
    with av.open(str(path)) as container:
        frames = np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])
    return hashlib.sha256(frames.tobytes()).hexdigest()


def test_bundled_4x_outputs_are_unchanged(tmp_path):
    rgl = tmp_path / "x.rgl"
    run("encode", CLIP, rgl, "--ratio", 4)
    assert hashlib.sha256(rgl.read_bytes()).hexdigest() == DIGESTS["rgl"]
    run("decode", rgl, tmp_path / "d.mkv")
    assert frames_digest(tmp_path / "d.mkv") == DIGESTS["decode"]
    run("extrapolate", CLIP, tmp_path / "e.mkv", "--future", 2, "--past", 1, "--ratio", 4)
    assert frames_digest(tmp_path / "e.mkv") == DIGESTS["extrapolate"]
