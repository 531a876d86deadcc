"""Options and parameter types shared by several commands: one definition each."""

from __future__ import annotations

import contextlib
from fractions import Fraction

import click

from models.config import RATIOS, SPATIAL_FACTOR

from ..codec.options import MAX_STEPS, MAX_TEMPERATURE


class TileType(click.ParamType):
    """A spatial tile size in pixels: 0 (whole frames) or a positive multiple of 8."""

    name = "PIXELS"

    def convert(self, value, param, ctx):
        try:
            tile = int(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a whole number of pixels", param, ctx)
        if tile < 0 or tile % SPATIAL_FACTOR:
            self.fail(f"must be 0 or a positive multiple of {SPATIAL_FACTOR}, got {tile}", param, ctx)
        return tile


class RatioType(click.Choice):
    """A temporal ratio k (4, 8, 16 or 32), converted to int."""

    def __init__(self) -> None:
        super().__init__([str(r) for r in RATIOS])

    def convert(self, value, param, ctx):
        return int(super().convert(str(value), param, ctx))


class PositiveFraction(click.ParamType):
    """A positive number, exactly: 2, 2.5, 60000/1001."""

    name = "NUMBER"

    def convert(self, value, param, ctx):
        if isinstance(value, Fraction):
            return value
        try:
            result = Fraction(value)
        except (ValueError, ZeroDivisionError):
            self.fail(f"{value!r} is not a number", param, ctx)
        if result <= 0:
            self.fail("must be positive", param, ctx)
        return result


EXIT_CODES_EPILOG = """Exit codes: 0 ok, 1 internal error, 2 usage (bad option, missing input, output
exists), 3 corrupt or truncated file, 4 model and file do not match, 5 unsupported input
(or a missing optional package), 6 output could not be written (disk full, permissions), 7 export
finished but some inputs failed (listed in its index), 130 interrupted."""

TILE = TileType()
RATIO = RatioType()
FRACTION = PositiveFraction()


def ratio_option(help: str = "Temporal compression: chunks of ratio+1 frames become two latent frames."):
    return click.option("--ratio", type=RATIO, default="16", show_default=True, help=help)


def tile_option(help: str = "Spatial tile size in pixels, a multiple of 8; 0 decodes whole frames. "
                            "Default: from the device."):
    return click.option("--tile", type=TILE, metavar="PIXELS", help=help)


quiet_option = click.option("-q", "--quiet", is_flag=True, help="No progress or log lines on stderr.")
json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
overwrite_option = click.option("-y", "--overwrite", is_flag=True, help="Replace an existing output file.")
device_option = click.option("--device", "device_name", type=click.Choice(["auto", "cpu", "cuda"]), default="auto",
                             show_default=True, help="auto takes CUDA when present.")
model_option = click.option("--model", "model_spec", metavar="NAME|PATH",
                            help="A bundled model name or a .safetensors model file.")
steps_option = click.option("--steps", type=click.IntRange(1, MAX_STEPS),
                            help="Sampling steps (default: the file's, normally 1).")
seed_option = click.option("--seed", type=int, help="Sampling seed (default: the file's, normally 0).")
temperature_option = click.option("--temperature", type=click.FloatRange(0, MAX_TEMPERATURE),
                                  help="Scale of the sampling noise, 0-2: 1 is the trained sampler, lower is "
                                       "closer to the decoder's mean (less generated detail). Default: the "
                                       "file's, i.e. the model's (its card's decode_temperature, else 1).")
no_extension_option = click.option("--no-extension", is_flag=True,
                                   help="Decode chunks independently (no latent extension).")
crf_option = click.option("--crf", type=click.IntRange(0, 51), default=16, show_default=True,
                          help="H.264 quality for .mp4/.mov outputs.")


def device(name: str, quiet: bool):
    """The torch device for --device, announced on stderr unless quiet."""
    from ..files.common import select_device
    chosen = select_device(name)
    if not quiet:
        click.echo(f"device: {chosen.type}", err=True)
    return chosen


def decode_options(steps, seed, temperature, no_extension, tile):
    from ..codec.options import DecodeOptions
    return DecodeOptions(steps, seed, temperature, not no_extension, tile)


@contextlib.contextmanager
def warnings_on_stderr(quiet: bool):
    """Library warnings (e.g. latents clamped to [-1, 1]) as `warning: ...` lines on stderr."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = lambda message, *args, **kwargs: None if quiet else click.echo(
            f"warning: {message}", err=True)
        yield


def report(result: dict, as_json: bool, quiet: bool, text: str) -> None:
    import json
    if as_json:
        click.echo(json.dumps(result))
    elif not quiet:
        click.echo(text, err=True)
