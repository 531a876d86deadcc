"""Behaviour pinned across refactors: for a fixed clip and bundled model, the `.rgl` file and the
decoded and extrapolated frames match references stored in tests/data/pinned/ (encode, decode,
and extrapolate from a video input, whose last chunk is partial and whose chunk boundaries use
latent extension).

Bit-exact digests do not survive a change of CPU (float sums differ between AVX2 and
AVX512 kernels), and where the CPU computes bf16 natively the encoder trunk and the DiT run
in bf16 (`codec.options.inference_model`), elsewhere in float32. So there is one reference
per precision, and the comparison has tolerances: the `.rgl` header is exact, its int8
latents may differ by one step in at most 2% of values; the frames are compared as means
over 16x16-pixel blocks, which another noise seed moved by up to 1.35 levels (mean 0.25) and
decoding without latent extension by up to 3.7, while two decodes of one file in bf16 and
float32 differed by at most 0.43 (mean 0.06).

The references change only on purpose, written on a machine of each kind (or with
`--fp32`, which forces float32) by `python tests/test_pinned_outputs.py --write [--fp32]`:
last when latent extension became a cross-fade of both chunks' decodes around each
boundary, shared-noise models got one noise image per video, and inference went bf16."""

import sys
from pathlib import Path

import av
import numpy as np
import torch
from click.testing import CliRunner
from einops import reduce

from regen_cli.cli import cli
from regen_cli.codec.options import native_bf16
from regen_cli.io.container import RglReader

DATA = Path(__file__).parent / "data"
CLIP = DATA / "tree-cinepak.avi"    # 12 frames, 320x240: 4x chunks of 5, 5, 2
PINNED = DATA / "pinned"
PRECISION = "bf16" if native_bf16(torch.device("cpu")) else "fp32"
BLOCK = 16                           # pixels per side of a fingerprint block
MAX_BLOCK_CHANGE, MEAN_BLOCK_CHANGE = 1.0, 0.15    # levels of 0-255
MAX_CHANGED_LATENTS = 0.02


def run(*args) -> None:
    result = CliRunner().invoke(cli, [str(a) for a in args] + ["-q", "-y"])
    assert result.exit_code == 0, result.output


def fingerprint(path: Path) -> np.ndarray:
    """Block means (T, H/16, W/16, 3) float32 of a video's frames."""
    with av.open(str(path)) as container:
        frames = np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])
    return reduce(frames.astype(np.float32), "t (h a) (w b) c -> t h w c", "mean", a=BLOCK, b=BLOCK)


def outputs(folder: Path) -> dict:
    rgl = folder / "x.rgl"
    run("encode", CLIP, rgl, "--ratio", 4)
    run("decode", rgl, folder / "d.mkv")
    run("extrapolate", CLIP, folder / "e.mkv", "--future", 2, "--past", 1, "--ratio", 4)
    return {"rgl": rgl, "decode": fingerprint(folder / "d.mkv"), "extrapolate": fingerprint(folder / "e.mkv")}


def latents(path: Path) -> tuple[bytes, np.ndarray]:
    """The file's header (JSON bytes) and all of its int8 latents, flattened."""
    with RglReader(path) as reader:
        codes = [reader.read_chunk(c).ravel() for c in range(reader.chunk_count)]
        return reader.header.to_json(), np.concatenate(codes).astype(np.int16)


def test_bundled_4x_outputs_are_unchanged(tmp_path):
    got = outputs(tmp_path)
    header, codes = latents(got["rgl"])
    ref_header, ref_codes = latents(PINNED / f"tree-cinepak-4x-{PRECISION}.rgl")
    assert header == ref_header
    assert codes.shape == ref_codes.shape
    assert np.abs(codes - ref_codes).max() <= 1 and np.mean(codes != ref_codes) <= MAX_CHANGED_LATENTS
    reference = np.load(PINNED / f"tree-cinepak-4x-{PRECISION}-frames.npz")
    for name in ("decode", "extrapolate"):
        change = np.abs(got[name] - reference[name])
        assert got[name].shape == reference[name].shape, name
        assert change.max() <= MAX_BLOCK_CHANGE and change.mean() <= MEAN_BLOCK_CHANGE, \
            f"{name}: block means moved by up to {change.max():.2f} (mean {change.mean():.3f})"


if __name__ == "__main__" and sys.argv[1:2] == ["--write"]:
    import shutil
    import tempfile

    import regen_cli.codec.options
    if "--fp32" in sys.argv:
        PRECISION = "fp32"
        regen_cli.codec.options.native_bf16 = lambda device: False
    PINNED.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        got = outputs(Path(tmp))
        shutil.copy(got["rgl"], PINNED / f"tree-cinepak-4x-{PRECISION}.rgl")
        np.savez_compressed(PINNED / f"tree-cinepak-4x-{PRECISION}-frames.npz",
                            decode=got["decode"].astype(np.float16), extrapolate=got["extrapolate"].astype(np.float16))
