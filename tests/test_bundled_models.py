"""The bundled models decode a real validation clip (not trained on) above a PSNR floor,
through the same commands a user runs (no --model: the bundled default for the ratio)."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from regen_cli.cli import cli
from regen_cli.io.zoo import bundled_models

DATA = Path(__file__).parent / "data"
# realshort.mp4 is held out of every bundled model's training; measured at 128x96:
# regen-4x 22.75 dB, regen-8x 21.07 dB (both at their default temperature 0.5), regen-16x 20.71 dB (17 frames), regen-32x 17.31 dB (33 frames)
FLOORS = {"regen-4x": 21.0, "regen-8x": 19.5, "regen-16x": 19.5, "regen-32x": 16.0}


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_bundled_model_reconstructs_a_held_out_clip(name, tmp_path):
    assert name in bundled_models()
    ratio = name.split("-")[1][:-1]
    frames = max(17, int(ratio) + 1)     # at least one whole chunk
    result = CliRunner().invoke(cli, ["eval", str(DATA / "realshort.mp4"), "--ratio", ratio, "--max-side", "128",
                                      "--max-frames", str(frames), "--json", "-q"])
    assert result.exit_code == 0, result.stderr
    psnr = json.loads(result.stdout)["videos"][0]["psnr"]
    print(f"\n{name} on realshort.mp4 at 128x96, {frames} frames: {psnr:.2f} dB")
    assert psnr > FLOORS[name]


def test_models_command_lists_bundled_models():
    result = CliRunner().invoke(cli, ["models", "--json"])
    assert result.exit_code == 0
    rows = {r["name"]: r for r in json.loads(result.stdout)["models"]}
    assert rows["regen-4x"]["ratio"] == 4 and rows["regen-4x"]["psnr"] > 20
