"""models and presets: what is bundled and what can be built."""

from __future__ import annotations

import json

import click

from .params import EXIT_CODES_EPILOG, json_option
from .tables import models_table, presets_table


@click.command("models", epilog=EXIT_CODES_EPILOG)
@json_option
def models_command(as_json):
    """List the bundled models with ratio, parameters and measured quality (from their NAME.json cards)."""
    from models import count_parameters

    from ..io.checkpoints import load_model
    from ..io.zoo import bundled_models, model_card
    rows = []
    for name, path in bundled_models().items():
        model = load_model(path)
        rows.append({"name": name, "ratio": model.ratio, "architecture": model.config.architecture,
                     "parameters": count_parameters(model), "file_bytes": path.stat().st_size,
                     "card": str(path.with_suffix(".md")), **model_card(path)})
    rows.sort(key=lambda r: (r["architecture"], r["ratio"], r["name"]))
    if as_json:
        click.echo(json.dumps({"models": rows}))
        return
    for line in models_table(rows):
        click.echo(line)


@click.command("presets", epilog=EXIT_CODES_EPILOG)
@json_option
def presets_command(as_json: bool) -> None:
    """List the named model presets with their parameter counts (built on the meta device)."""
    import torch

    from models import build_model, count_parameters, preset, preset_names
    from models.presets import regen_decoder_params
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
    for line in presets_table(rows):
        click.echo(line)


COMMANDS = (models_command, presets_command)
