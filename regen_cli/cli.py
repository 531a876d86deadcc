"""The `regen` command line. Thin: parses options, calls the pipelines, reports.

Errors are one line `error: ...` on stderr with the exit codes of `errors.py`.
`--json` prints one JSON object on stdout; progress and logs go to stderr.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from fractions import Fraction
from pathlib import Path

import click
import torch

from models import build_model, count_parameters, preset, preset_names
from models.presets import regen_decoder_params

from . import __version__, pipeline
from .checkpoints import load_model
from .container import MAX_TEMPERATURE
from .errors import RegenError, UsageError
from .zoo import bundled_models, resolve_model

EXIT_CODES = """Exit codes: 0 ok, 1 internal error, 2 usage (bad option, missing input, output
exists), 3 corrupt or truncated file, 4 model and file do not match, 5 unsupported input,
6 output could not be written (disk full, permissions), 130 interrupted."""


class RegenGroup(click.Group):
    """Turns every failure into one `error:` line and a documented exit code."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        try:
            return super().main(args, prog_name or "regen", complete_var, standalone_mode=False, **extra)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            _fail(exc.format_message(), 2)
        except (click.exceptions.Abort, KeyboardInterrupt):
            _fail("interrupted", 130)
        except RegenError as exc:
            _fail(str(exc), exc.exit_code)
        except (MemoryError, torch.OutOfMemoryError):
            _fail("out of memory; decode with a smaller --tile or use --device cpu", 1)
        except Exception as exc:  # a bug: one line unless REGEN_DEBUG is set
            if os.environ.get("REGEN_DEBUG"):
                raise
            _fail(f"internal error ({type(exc).__name__}: {exc}); rerun with REGEN_DEBUG=1 and report it", 1)


def _fail(message: str, code: int) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def _report(result: dict, as_json: bool, quiet: bool, text: str) -> None:
    if as_json:
        click.echo(json.dumps(result))
    elif not quiet:
        click.echo(text, err=True)


def _device(name: str, quiet: bool) -> torch.device:
    device = pipeline.select_device(name)
    if not quiet:
        click.echo(f"device: {device.type}", err=True)
    return device


quiet_option = click.option("-q", "--quiet", is_flag=True, help="No progress or log lines on stderr.")
json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
overwrite_option = click.option("-y", "--overwrite", is_flag=True, help="Replace an existing output file.")
device_option = click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto",
                             show_default=True, help="auto takes CUDA when present.")
model_option = click.option("--model", "model_spec", metavar="NAME|PATH",
                            help="A bundled model name or a .safetensors model file.")
temperature_option = click.option("--temperature", type=click.FloatRange(0, MAX_TEMPERATURE),
                                  help="Scale of the sampling noise, 0-2: 1 is the trained sampler, lower is "
                                       "closer to the decoder's mean (less generated detail). Default: the "
                                       "file's, i.e. the model's (its card's value, else 1).")


@click.group(cls=RegenGroup, context_settings={"help_option_names": ["-h", "--help"]}, epilog=EXIT_CODES)
@click.version_option(__version__, prog_name="regen")
def cli() -> None:
    """Compress videos into tiny latent files and decode them with a generative decoder (REGEN)."""


@cli.command(epilog=EXIT_CODES)
@click.argument("src", type=click.Path(path_type=Path))
@click.argument("dst", type=click.Path(path_type=Path))
@click.option("--ratio", type=click.Choice(["4", "8", "16", "32"]), default="16", show_default=True,
              help="Temporal compression: chunks of ratio+1 frames become two latent frames.")
@model_option
@device_option
@overwrite_option
@quiet_option
@json_option
def encode(src, dst, ratio, model_spec, device, overwrite, quiet, as_json):
    """Encode the video SRC into the latent file DST (.rgl)."""
    ref = resolve_model(model_spec, int(ratio))
    result = pipeline.encode_file(src, dst, ref, _device(device, quiet), overwrite, quiet)
    _report(result, as_json, quiet, f"wrote {dst}: {result['frames']} frames, {result['bytes']:,} bytes, "
                                    f"{result['bits_per_pixel']:.5f} bits/pixel")


@cli.command(epilog=EXIT_CODES)
@click.argument("src", type=click.Path(path_type=Path))
@click.argument("dst", type=click.Path(path_type=Path))
@click.option("--steps", type=click.IntRange(1, 1000), help="Sampling steps (default: the file's, normally 1).")
@click.option("--seed", type=int, help="Sampling seed (default: the file's, normally 0).")
@temperature_option
@click.option("--no-extension", is_flag=True, help="Decode chunks independently (no latent extension).")
@click.option("--tile", type=click.IntRange(0), metavar="PIXELS",
              help="Spatial tile size in pixels, a multiple of 8; 0 decodes whole frames. Default: from the device.")
@click.option("--crf", type=click.IntRange(0, 51), default=16, show_default=True, help="H.264 quality for .mp4.")
@model_option
@device_option
@overwrite_option
@quiet_option
@json_option
def decode(src, dst, steps, seed, temperature, no_extension, tile, crf, model_spec, device, overwrite, quiet,
           as_json):
    """Decode the latent file SRC into the video DST (.mp4 or .mov: H.264; .mkv: lossless FFV1)."""
    if tile is not None and tile % 8:
        raise click.BadParameter("must be a multiple of 8", param_hint="--tile")
    result = pipeline.decode_file(src, dst, model_spec, _device(device, quiet), steps, seed, not no_extension,
                                  tile, crf, overwrite, quiet, temperature)
    _report(result, as_json, quiet, f"wrote {dst}: {result['frames']} frames {result['width']}x{result['height']}")


def _decode_options(func):
    for option in reversed([
        click.option("--ratio", type=click.Choice(["4", "8", "16", "32"]), default="16", show_default=True,
                     help="Ratio of the bundled model used when IN is a video."),
        model_option,
        click.option("--steps", type=click.IntRange(1, 1000), help="Sampling steps (default: the file's)."),
        click.option("--seed", type=int, help="Sampling seed (default: the file's)."),
        temperature_option,
        click.option("--no-extension", is_flag=True, help="Decode chunks independently."),
        click.option("--tile", type=click.IntRange(0), metavar="PIXELS", help="Spatial tile size (0: whole frames)."),
        click.option("--crf", type=click.IntRange(0, 51), default=16, show_default=True),
        device_option, overwrite_option, quiet_option, json_option]):
        func = option(func)
    return func


def _fraction(value: str, name: str) -> Fraction:
    try:
        result = Fraction(value)
    except (ValueError, ZeroDivisionError):
        raise click.BadParameter(f"{value!r} is not a number", param_hint=name) from None
    if result <= 0:
        raise click.BadParameter("must be positive", param_hint=name)
    return result


@cli.command(epilog=EXIT_CODES)
@click.argument("src", type=click.Path(path_type=Path))
@click.argument("dst", type=click.Path(path_type=Path))
@click.option("--factor", help="Frame-rate multiple, e.g. 2 (any number > 1).")
@click.option("--fps", help="Target frame rate instead of --factor, e.g. 60 or 60000/1001.")
@_decode_options
def interpolate(src, dst, factor, fps, ratio, model_spec, steps, seed, temperature, no_extension, tile, crf, device,
                overwrite, quiet, as_json):
    """Decode IN (a video or an .rgl) at a higher frame rate into DST, same duration.

    N source frames give floor((N-1) F) + 1 frames at F times the frame rate."""
    if (factor is None) == (fps is None):
        raise click.UsageError("give exactly one of --factor and --fps")
    result = pipeline.interpolate_file(src, dst, factor and _fraction(factor, "--factor"),
                                       fps and _fraction(fps, "--fps"), int(ratio), model_spec,
                                       _device(device, quiet), steps, seed, not no_extension, tile, crf, overwrite, quiet,
                                       temperature)
    _report(result, as_json, quiet, f"wrote {dst}: {result['frames']} frames at {result['fps']} fps")


@cli.command(epilog=EXIT_CODES)
@click.argument("src", type=click.Path(path_type=Path))
@click.argument("dst", type=click.Path(path_type=Path))
@click.option("--future", type=click.IntRange(0), default=0, show_default=True, help="Frames to predict after the end.")
@click.option("--past", type=click.IntRange(0), default=0, show_default=True, help="Frames to predict before the start.")
@click.option("--only-new", is_flag=True, help="Write only the predicted frames.")
@_decode_options
def extrapolate(src, dst, future, past, only_new, ratio, model_spec, steps, seed, temperature, no_extension, tile,
                crf, device, overwrite, quiet, as_json):
    """Decode IN (a video or an .rgl) with PAST predicted frames before it and FUTURE after it.

    Beyond the trained horizon (k/4 frames) prediction continues autoregressively: the newest
    k+1 frames are re-encoded and the next frames predicted from them."""
    result = pipeline.extrapolate_file(src, dst, future, past, only_new, int(ratio), model_spec,
                                       _device(device, quiet), steps, seed, not no_extension, tile, crf, overwrite, quiet,
                                       temperature)
    _report(result, as_json, quiet, f"wrote {dst}: {result['frames']} frames")


@cli.command(epilog=EXIT_CODES)
@click.argument("src", type=click.Path(path_type=Path))
@json_option
def info(src, as_json):
    """Show the header of the latent file SRC, its size, bits per pixel and compression ratio."""
    result = pipeline.file_info(src)
    if as_json:
        click.echo(json.dumps(result))
        return
    for key, value in result.items():
        click.echo(f"{key:>18}: {value}")


@cli.command(epilog=EXIT_CODES)
@click.argument("src", type=click.Path(path_type=Path))
@quiet_option
@json_option
def verify(src, quiet, as_json):
    """Check every checksum of the latent file SRC (needs no model)."""
    result = pipeline.verify_file(src)
    _report(result, as_json, quiet, f"{src}: ok ({result['chunks']} chunks, {result['bytes']:,} bytes)")


@cli.command("eval", epilog=EXIT_CODES)
@click.argument("videos", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--ratio", type=click.Choice(["4", "8", "16", "32"]), default="16", show_default=True)
@model_option
@click.option("--steps", type=click.IntRange(1, 1000), default=1, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@temperature_option
@click.option("--max-side", type=click.IntRange(8), default=512, show_default=True,
              help="Downscale sources whose long side is larger (the reference is the downscaled video).")
@click.option("--max-frames", type=click.IntRange(1), help="Evaluate only the first frames of each video.")
@click.option("--crop", type=click.IntRange(8), metavar="PIXELS",
              help="Centre-crop the (downscaled) frames to a square of this side, e.g. to measure quality at "
                   "the training crop size and at 2x and 4x that.")
@click.option("--tile", type=click.IntRange(0), metavar="PIXELS", help="Decode tile size (0: whole frames).")
@click.option("--no-extension", is_flag=True, help="Decode chunks independently.")
@click.option("--i3d", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="I3D TorchScript file (e.g. i3d_torchscript.pt) to also report rFVD.")
@device_option
@quiet_option
@json_option
def eval_command(videos, ratio, model_spec, steps, seed, temperature, max_side, max_frames, crop, tile, no_extension,
                 i3d, device, quiet, as_json):
    """Encode and decode VIDEOS with a model; report PSNR, SSIM, bits per pixel and speed."""
    from .evaluate import evaluate
    for video in videos:
        if not video.is_file():
            raise UsageError(f"input not found: {video}")
    ref = resolve_model(model_spec, int(ratio))
    result = evaluate(list(videos), ref, _device(device, quiet), steps, seed, max_side, max_frames, tile,
                      not no_extension, i3d, crop, temperature)
    if as_json:
        click.echo(json.dumps(result))
        return
    click.echo(f"model {result['model']}, {steps} step(s), seed {seed}, temperature {result['temperature']:g}, "
               f"long side <= {max_side}"
               + (f", centre crop {crop}x{crop}" if crop else ""))
    click.echo(f"{'video':<34} {'frames':>6} {'size':>9} {'PSNR':>7} {'SSIM':>6} {'bpp':>8} {'enc fps':>8} {'dec fps':>8}")
    for r in result["videos"]:
        click.echo(f"{Path(r['video']).name[:34]:<34} {r['frames']:>6} {r['width']:>4}x{r['height']:<4} "
                   f"{r['psnr']:>7.2f} {r['ssim']:>6.3f} {r['bpp']:>8.4f} {r['encode_fps']:>8.1f} {r['decode_fps']:>8.2f}")
    a = result["aggregate"]
    click.echo(f"{'mean':<34} {'':>6} {'':>9} {a['psnr']:>7.2f} {a['ssim']:>6.3f} {a['bpp']:>8.4f} "
               f"{a['encode_fps']:>8.1f} {a['decode_fps']:>8.2f}")
    if "rfvd" in a:
        click.echo(f"rFVD over {a['rfvd_clips']} clips of 16 frames: {a['rfvd']}")


@cli.command("models")
@json_option
def models_command(as_json):
    """List the bundled models with ratio, parameters and measured quality (from their model cards)."""
    rows = []
    for name, path in bundled_models().items():
        model = load_model(path)
        card = path.with_suffix(".json")
        quality = json.loads(card.read_text()) if card.exists() else {}
        rows.append({"name": name, "ratio": model.ratio, "architecture": model.config.architecture,
                     "parameters": count_parameters(model), "file_bytes": path.stat().st_size,
                     "card": str(path.with_suffix(".md")), **quality})
    rows.sort(key=lambda r: (r["architecture"], r["ratio"], r["name"]))
    if as_json:
        click.echo(json.dumps({"models": rows}))
        return
    if not rows:
        click.echo("no bundled models in this install")
        return
    click.echo(f"{'model':<22} {'ratio':>5} {'params':>11} {'held-out PSNR':>14} {'SSIM':>6} {'bpp':>8} "
               f"{'MAGVIT-v2 PSNR':>15}")
    def num(row: dict, key: str, width: int, digits: int) -> str:
        return f"{row[key]:>{width}.{digits}f}" if key in row else f"{'-':>{width}}"
    for r in rows:
        click.echo(f"{r['name']:<22} {r['ratio']:>4}x {r['parameters']:>11,} {num(r, 'psnr', 14, 2)} "
                   f"{num(r, 'ssim', 6, 3)} {num(r, 'bpp', 8, 4)} {num(r, 'baseline_psnr', 15, 2)}")


@cli.command("presets")
@json_option
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


from .train_cli import train_command  # noqa: E402  (the group must exist first)

cli.add_command(train_command)


def _terminated(signum, frame) -> None:
    raise KeyboardInterrupt   # `kill` is an interruption too: temporary outputs are removed, exit 130


def main() -> None:
    signal.signal(signal.SIGTERM, _terminated)
    cli(prog_name="regen")
