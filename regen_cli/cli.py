"""The `regen` command line. Thin: parses options and calls the library."""

from __future__ import annotations

import json
import sys

import click
import torch

from models import build_model, count_parameters, preset, preset_names
from models.presets import regen_decoder_params

from . import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="regen")
def cli() -> None:
    """Compress videos into tiny latent files and decode them with a generative decoder (REGEN)."""


@cli.command("presets")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
def presets_command(as_json: bool) -> None:
    """List the named model presets with their parameter counts (built on the meta device)."""
    rows = []
    for name in preset_names():
        with torch.device("meta"):
            model = build_model(name)
        config = preset(name)
        decoder = (regen_decoder_params(config) if config.architecture == "regen"
                   else count_parameters(model.decoder))
        rows.append({"preset": name, "architecture": config.architecture, "ratio": config.ratio,
                     "encoder_params": count_parameters(model.encoder), "decoder_params": decoder})
    if as_json:
        click.echo(json.dumps({"presets": rows}))
        return
    click.echo(f"{'preset':<20} {'ratio':>5} {'encoder':>12} {'decoder':>14}")
    for r in rows:
        click.echo(f"{r['preset']:<20} {r['ratio']:>4}x {r['encoder_params']:>12,} {r['decoder_params']:>14,}")


def main() -> None:
    cli(prog_name="regen")


if __name__ == "__main__":
    sys.exit(main())
