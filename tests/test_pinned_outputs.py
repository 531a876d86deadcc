"""Behaviour pinned across refactors: for a fixed clip and bundled model, the `.rgl` bytes and
the decoded, extrapolated frames hash to the digests the code gave before the package was
reorganised (measured with that code on this clip: encode, decode, and extrapolate from a
video input, whose last chunk is partial and whose chunks use latent extension).
Format 2.2 changed the `.rgl` digest only: this clip is variable-rate, so its header now
holds its frame durations; its chunk records are byte-for-byte those of 2.1. The decoded and
extrapolated digests changed once since, on purpose: the DiT's MLP takes the exact GELU, and
models trained without context frames (this bundled 4x) decode every chunk on its own in
one step instead of the two-step SDEdit guidance of the earlier latent extension."""

import hashlib
from pathlib import Path

import av
import numpy as np
from click.testing import CliRunner

from regen_cli.cli import cli

CLIP = Path(__file__).parent / "data" / "tree-cinepak.avi"    # 12 frames, 320x240: 4x chunks of 5, 5, 2
DIGESTS = {
    "rgl": "0b9041ad68fea17713e29f27cb9d1bcd923228a60b25bb22f072d4fd9d656d2a",
    "decode": "c4bc7170fb09959b729b3bdc7fc1b6dbf06d398c931f06e90cd616af817cfcfb",
    "extrapolate": "f150faff2b03550e0d7a773c3d253a82dbc1260bd4568b69094ae13b6d6460fb",
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
