"""train: one click option per `TrainConfig` field, generated from its fields and help texts."""

from __future__ import annotations

import dataclasses
import json

import click

from models.config import PRESET_SIZES

from ..train.config import DECODERS, TrainConfig
from .params import EXIT_CODES_EPILOG, RATIO

CHOICES = {"ratio": RATIO, "size": click.Choice(PRESET_SIZES), "decoder": click.Choice(DECODERS)}


def train_options(func):
    for f in reversed(dataclasses.fields(TrainConfig)):
        flag = "--" + f.name.replace("_", "-")
        default, text = f.default, f.metadata.get("help", "")
        if f.name in CHOICES:
            func = click.option(flag, type=CHOICES[f.name], default=str(default), show_default=True, help=text)(func)
        elif isinstance(default, bool):
            func = click.option(f"{flag}/--no-{flag[2:]}", default=default, show_default=True, help=text)(func)
        elif isinstance(default, tuple):
            func = click.option(flag, multiple=True, type=click.Path(), help=text + " (repeatable)")(func)
        else:
            func = click.option(flag, type=type(default), default=default, show_default=default != "",
                                help=text)(func)
    return func


@click.command("train", epilog=EXIT_CODES_EPILOG)
@train_options
@click.option("--resume", is_flag=True, help="Continue from the last checkpoint in --out.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or log lines.")
@click.option("--json", "as_json", is_flag=True, help="Print the final metrics as one JSON object.")
def train_command(resume, quiet, as_json, **options):
    """Train a REGEN model (or the MAGVIT-v2 baseline with --decoder magvit2).

    Runs the same on one CPU and under torchrun on many GPUs or nodes, e.g.
    torchrun --nproc_per_node 8 -m regen_cli train --data videos/ --size paper --ratio 16
    """
    from ..train.loop import train
    config = TrainConfig(**options)
    result = train(config, resume=resume, quiet=quiet)
    if as_json:
        click.echo(json.dumps(result))


COMMANDS = (train_command,)
