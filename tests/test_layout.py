"""The package's shape: light commands import no torch, the library raises domain errors
(never CLI flags), and every user mistake gets its documented exit code."""

import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

import regen_cli as regen
from regen_cli import errors
from regen_cli.cli import cli

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).parent.parent


def _modules_after(args: list[str]) -> set[str]:
    """Runs `regen ARGS` in a fresh interpreter and returns the modules it imported."""
    code = ("import sys\nfrom regen_cli.cli import cli\ntry:\n    cli(sys.argv[1:], standalone_mode=True)\n"
            "except SystemExit:\n    pass\nprint('\\n'.join(sys.modules))")
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=REPO, timeout=120)
    return set(done.stdout.split())


@pytest.mark.parametrize("args", [["--help"], ["verify", str(DATA / "format-1.0.rgl")],
                                  ["info", str(DATA / "format-1.0.rgl")], ["encode", "--help"],
                                  ["export", "--help"]])
def test_light_commands_import_no_torch(args):
    modules = _modules_after(args)
    assert "regen_cli.cli" in modules and "click" in modules
    assert "torch" not in modules and "models.regen" not in modules, sorted(m for m in modules if "torch" in m)[:5]


def test_importing_the_package_imports_no_torch_until_a_name_is_used():
    code = "import sys, regen_cli; a = 'torch' in sys.modules; regen_cli.encode; print(a, 'torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert done.stdout.split() == ["False", "True"], done.stderr


def test_library_errors_are_domain_errors_that_name_no_flags(tmp_path):
    from regen_cli.files.common import select_device
    from regen_cli.io.atomic import check_output
    from regen_cli.io.container import RglReader
    from regen_cli.io.zoo import resolve_model
    existing = tmp_path / "o.mp4"
    existing.write_bytes(b"x")
    model = regen.build_model("regen-tiny-4x")
    latents = regen.encode(model, torch.zeros(3, 5, 16, 16))
    cases = [(lambda: RglReader(tmp_path / "missing.rgl"), FileNotFoundError),
             (lambda: check_output(existing, False), FileExistsError),
             (lambda: check_output(tmp_path / "no" / "o.mp4", False), FileNotFoundError),
             (lambda: resolve_model(str(tmp_path / "nope.safetensors")), LookupError),
             (lambda: regen.interpolate(model, latents, Fraction(1)), ValueError),
             (lambda: regen.decode(model, latents, tile=12), ValueError),
             (lambda: regen.load_model(tmp_path / "missing.safetensors"), FileNotFoundError)]
    if not torch.cuda.is_available():
        cases.append((lambda: select_device("cuda"), RuntimeError))
    for call, kind in cases:
        with pytest.raises(kind) as info:
            call()
        assert isinstance(info.value, errors.RegenError)
        assert "--" not in str(info.value), str(info.value)


def test_train_config_validates_itself():
    from regen_cli.train.config import TrainConfig
    with pytest.raises(errors.ConfigError, match="crop"):
        TrainConfig(crop=12)
    with pytest.raises(ValueError, match="ratio"):
        TrainConfig(ratio=5)
    with pytest.raises(errors.ConfigError, match="shared_noise"):
        TrainConfig(decoder="magvit2", shared_noise=True)
    assert TrainConfig(data=["a"]).data == ("a",)


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def assert_error(result, code, words):
    assert result.exit_code == code, (result.exit_code, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1 and "Traceback" not in result.output and words in lines[0], result.stderr


@pytest.mark.parametrize("command", ["decode", "interpolate", "extrapolate", "eval"])
def test_a_tile_that_is_not_a_multiple_of_8_is_a_usage_error_everywhere(tmp_path, command):
    extra = {"interpolate": ["--factor", 2], "extrapolate": ["--future", 1], "decode": [], "eval": []}[command]
    outputs = [] if command == "eval" else [tmp_path / "o.mp4"]
    src = DATA / ("format-1.0.rgl" if command == "decode" else "balle-vp9.avi")
    assert_error(invoke(command, src, *outputs, "--tile", 12, *extra), 2, "multiple of 8")
    assert not (tmp_path / "o.mp4").exists()


def test_train_usage_errors_exit_2(tmp_path):
    assert_error(invoke("train", "--data", tmp_path / "missing", "--out", tmp_path / "run"), 2, "not found")
    assert_error(invoke("train", "--out", tmp_path / "run"), 2, "--data")
    assert_error(invoke("train", "--data", DATA, "--crop", 12, "--out", tmp_path / "run"), 2, "--crop")
    assert_error(invoke("train", "--data", DATA, "--ratio", 5, "--out", tmp_path / "run"), 2, "--ratio")
    assert not (tmp_path / "run").exists()


def test_no_cuda_is_a_usage_error_naming_the_flag(tmp_path):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    assert_error(invoke("encode", DATA / "balle-vp9.avi", tmp_path / "o.rgl", "--device", "cuda"), 2,
                 "--device cpu")
