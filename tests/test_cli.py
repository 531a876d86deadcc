import json
import subprocess
import sys

from click.testing import CliRunner

from regen_cli import __version__
from regen_cli.cli import cli


def test_presets_lists_parameter_counts():
    result = CliRunner().invoke(cli, ["presets", "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["preset"]: r for r in json.loads(result.output)["presets"]}
    assert len(rows) == 32   # 2 architectures x 4 sizes x 4 ratios
    assert 1.1e9 < rows["regen-paper-16x"]["decoder_params"] < 1.35e9


def test_version_and_module_entry_point():
    out = subprocess.run([sys.executable, "-m", "regen_cli", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and __version__ in out.stdout
