"""`regen eval` agrees with an independent PSNR computation; the Fréchet distance is right."""

import json
from pathlib import Path

import av
import numpy as np
import pytest
from click.testing import CliRunner

import regen_cli as regen
from regen_cli.cli import cli
from regen_cli.eval.fvd import frechet_distance

from .conftest import tiny_model

DATA = Path(__file__).parent / "data"


def frames_of(path):
    with av.open(str(path)) as c:
        return np.stack([f.to_ndarray(format="rgb24") for f in c.decode(video=0)])


def test_eval_psnr_matches_an_independent_computation(tmp_path):
    model = tiny_model("regen-tiny-4x")
    path = tmp_path / "m.safetensors"
    regen.save_model(model, path)
    clip = DATA / "balle-vp9.avi"
    runner = CliRunner()
    result = runner.invoke(cli, ["eval", str(clip), "--ratio", "4", "--model", str(path), "--json", "-q"])
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    row = report["videos"][0]
    assert runner.invoke(cli, ["encode", str(clip), str(tmp_path / "x.rgl"), "--ratio", "4", "--model", str(path),
                               "-q"]).exit_code == 0
    assert runner.invoke(cli, ["decode", str(tmp_path / "x.rgl"), str(tmp_path / "x.mkv"), "--model", str(path),
                               "-q"]).exit_code == 0
    source, decoded = frames_of(clip).astype(np.float64), frames_of(tmp_path / "x.mkv").astype(np.float64)
    mse = ((source - decoded) ** 2).mean(axis=(1, 2, 3))
    expected = float(np.mean(10 * np.log10(255.0 ** 2 / mse)))
    assert row["psnr"] == pytest.approx(expected, abs=1e-6)
    # eval encodes a lossless reference copy, so only the header (source codec, time base) differs
    assert abs(row["bytes"] - (tmp_path / "x.rgl").stat().st_size) < 64
    assert row["bpp"] == pytest.approx(8 * row["bytes"] / (12 * 320 * 240))
    assert 0 < row["ssim"] < 1 and row["encode_fps"] > 0 and row["decode_fps"] > 0
    table = runner.invoke(cli, ["eval", str(clip), "--ratio", "4", "--model", str(path), "-q"])
    assert table.exit_code == 0 and "PSNR" in table.stdout and f"{row['psnr']:.2f}" in table.stdout
    cropped = runner.invoke(cli, ["eval", str(clip), "--ratio", "4", "--model", str(path), "--crop", "64",
                                  "--max-frames", "5", "--json", "-q"])
    assert cropped.exit_code == 0, cropped.stderr
    crow = json.loads(cropped.stdout)["videos"][0]
    assert (crow["width"], crow["height"], crow["frames"]) == (64, 64, 5)


def test_frechet_distance_on_gaussians_with_a_known_answer():
    rng = np.random.default_rng(0)
    n = 200_000
    a = rng.normal([0, 1, 2], [1.0, 2.0, 0.5], size=(n, 3))
    b = rng.normal([1, 1, 0], [2.0, 2.0, 1.5], size=(n, 3))
    # diagonal covariances: |mu_a - mu_b|^2 + sum (sigma_a - sigma_b)^2
    expected = (1 + 0 + 4) + (1.0 + 0.0 + 1.0)
    assert frechet_distance(a, b) == pytest.approx(expected, rel=0.02)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    assert frechet_distance(a, b) == pytest.approx(frechet_distance(b, a), rel=1e-6)
    rotation = np.linalg.qr(rng.normal(size=(3, 3)))[0]       # invariant to a shared rotation
    assert frechet_distance(a @ rotation, b @ rotation) == pytest.approx(frechet_distance(a, b), rel=1e-6)
