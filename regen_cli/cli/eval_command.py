"""eval: encode and decode videos with a model and measure them."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..errors import NotFound
from .params import (EXIT_CODES_EPILOG, decode_options, device, device_option, json_option, model_option,
                     no_extension_option, quiet_option, ratio_option, temperature_option, tile_option)
from .tables import eval_table


@click.command("eval", epilog=EXIT_CODES_EPILOG)
@click.argument("videos", nargs=-1, required=True, type=click.Path(path_type=Path))
@ratio_option("Ratio of the bundled model (or give --model).")
@model_option
@click.option("--steps", type=click.IntRange(1, 1000), default=1, show_default=True, help="Sampling steps.")
@click.option("--seed", type=int, default=0, show_default=True, help="Sampling seed.")
@temperature_option
@click.option("--max-side", type=click.IntRange(8), default=512, show_default=True,
              help="Downscale sources whose long side is larger (the reference is the downscaled video).")
@click.option("--max-frames", type=click.IntRange(1), help="Evaluate only the first frames of each video.")
@click.option("--crop", type=click.IntRange(8), metavar="PIXELS",
              help="Centre-crop the (downscaled) frames to a square of this side, e.g. to measure quality at "
                   "the training crop size and at 2x and 4x that.")
@tile_option("Decode tile size in pixels, a multiple of 8 (0: whole frames).")
@no_extension_option
@click.option("--i3d", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="I3D TorchScript file (e.g. i3d_torchscript.pt) to also report rFVD.")
@device_option
@quiet_option
@json_option
def eval_command(videos, ratio, model_spec, steps, seed, temperature, max_side, max_frames, crop, tile, no_extension,
                 i3d, device_name, quiet, as_json):
    """Encode and decode VIDEOS with a model; report PSNR, SSIM, bits per pixel and speed."""
    from ..eval.evaluate import evaluate
    from ..io.zoo import resolve_model
    for video in videos:
        if not video.is_file():
            raise NotFound(f"input not found: {video}")
    ref = resolve_model(model_spec, ratio)
    result = evaluate(list(videos), ref, device(device_name, quiet),
                      decode_options(steps, seed, temperature, no_extension, tile), max_side, max_frames, i3d, crop)
    if as_json:
        click.echo(json.dumps(result))
        return
    for line in eval_table(result, max_side, crop):
        click.echo(line)


COMMANDS = (eval_command,)
