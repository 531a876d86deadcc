"""The `regen train` command: one click option per `TrainConfig` field, generated from it."""

from __future__ import annotations

import dataclasses
import inspect
import json
import re

import click

from .train import TrainConfig, train


def _field_help() -> dict[str, str]:
    """The trailing comment of each field in TrainConfig's source, as its help text."""
    helps = {}
    for line in inspect.getsource(TrainConfig).splitlines():
        match = re.match(r"\s+(\w+): [^=]+= .*?#\s*(.+)$", line)
        if match:
            helps[match.group(1)] = match.group(2)
    return helps


def train_options(func):
    helps = _field_help()
    for f in reversed(dataclasses.fields(TrainConfig)):
        flag = "--" + f.name.replace("_", "-")
        default = f.default
        text = helps.get(f.name, "")
        if isinstance(default, bool):
            func = click.option(f"{flag}/--no-{flag[2:]}", default=default, show_default=True, help=text)(func)
        elif isinstance(default, tuple):
            func = click.option(flag, multiple=True, type=click.Path(), help=text + " (repeatable)")(func)
        else:
            func = click.option(flag, type=type(default), default=default, show_default=True, help=text)(func)
    return func


@click.command("train")
@train_options
@click.option("--resume", is_flag=True, help="Continue from the last checkpoint in --out.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or log lines.")
@click.option("--json", "as_json", is_flag=True, help="Print the final metrics as one JSON object.")
def train_command(resume, quiet, as_json, **options):
    """Train a REGEN model (or the MAGVIT-v2 baseline with --decoder magvit2).

    Runs the same on one CPU and under torchrun on many GPUs or nodes, e.g.
    torchrun --nproc_per_node 8 -m regen_cli train --data videos/ --size paper --ratio 16
    """
    if not options["data"]:
        raise click.UsageError("give training data with --data DIR (repeatable)")
    if options["crop"] % 8:
        raise click.BadParameter("must be a multiple of 8", param_hint="--crop")
    if options["ratio"] not in (4, 8, 16, 32):
        raise click.BadParameter("must be 4, 8, 16 or 32", param_hint="--ratio")
    if options["interp_max_factor"] not in (2, 4, 8):
        raise click.BadParameter("must be 2, 4 or 8", param_hint="--interp-max-factor")
    if options["workers"] < 0:
        raise click.BadParameter("must be 0 or more", param_hint="--workers")
    if options["decoder"] not in ("regen", "magvit2") or options["size"] not in ("tiny", "small", "paper"):
        raise click.UsageError("--decoder is regen or magvit2; --size is tiny, small or paper")
    config = TrainConfig(**{k: tuple(v) if isinstance(v, tuple) else v for k, v in options.items()})
    result = train(config, resume=resume, quiet=quiet)
    if as_json:
        click.echo(json.dumps(result))
