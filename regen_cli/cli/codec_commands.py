"""encode, decode, interpolate, extrapolate."""

from __future__ import annotations

from pathlib import Path

import click

from .params import (FRACTION, EXIT_CODES_EPILOG, crf_option, decode_options, device, device_option, json_option,
                     model_option, no_extension_option, overwrite_option, quiet_option, ratio_option, report,
                     seed_option, steps_option, temperature_option, tile_option, warnings_on_stderr)

paths = [click.argument("src", type=click.Path(path_type=Path)), click.argument("dst", type=click.Path(path_type=Path))]


def _apply(func, options):
    for option in reversed(options):
        func = option(func)
    return func


def _decode_flags(func):
    return _apply(func, [ratio_option("Ratio of the bundled model used when SRC is a video."), model_option,
                         steps_option, seed_option, temperature_option, no_extension_option,
                         tile_option("Spatial tile size in pixels, a multiple of 8 (0: whole frames)."), crf_option,
                         device_option, overwrite_option, quiet_option, json_option])


@click.command(epilog=EXIT_CODES_EPILOG)
@paths[0]
@paths[1]
@ratio_option()
@model_option
@device_option
@overwrite_option
@quiet_option
@json_option
def encode(src, dst, ratio, model_spec, device_name, overwrite, quiet, as_json):
    """Encode the video SRC into the latent file DST (.rgl)."""
    from ..files.encode import encode_file
    from ..io.zoo import resolve_model
    ref = resolve_model(model_spec, ratio)
    result = encode_file(src, dst, ref, device(device_name, quiet), overwrite, quiet)
    report(result, as_json, quiet, f"wrote {dst}: {result['frames']} frames, {result['bytes']:,} bytes, "
                                   f"{result['bits_per_pixel']:.5f} bits/pixel")


@click.command(epilog=EXIT_CODES_EPILOG)
@paths[0]
@paths[1]
@steps_option
@seed_option
@temperature_option
@no_extension_option
@tile_option()
@crf_option
@model_option
@click.option("--fps", type=FRACTION, help="Frame rate of the video from a .safetensors SRC (default: the file's).")
@device_option
@overwrite_option
@quiet_option
@json_option
def decode(src, dst, steps, seed, temperature, no_extension, tile, crf, model_spec, fps, device_name, overwrite, quiet,
           as_json):
    """Decode the latent file SRC into the video DST (.mp4 or .mov: H.264; .mkv: lossless FFV1).

    SRC is an .rgl file, or a .safetensors file of latents (chunks, 2, 8, h, w) in the layout
    of `regen export`, e.g. a generator's output: float values in [-1, 1] (values outside
    are clamped with a warning), de-normalised first when the file says it is normalised."""
    options = decode_options(steps, seed, temperature, no_extension, tile)
    if src.suffix.lower() == ".safetensors":
        from ..files.decode_latents import decode_latents_file
        with warnings_on_stderr(quiet):
            result = decode_latents_file(src, dst, model_spec, fps, device(device_name, quiet), options, crf,
                                         overwrite, quiet)
    elif fps is not None:
        raise click.UsageError("--fps is for a .safetensors latent input; an .rgl file keeps its own frame rate")
    else:
        from ..files.decode import decode_file
        result = decode_file(src, dst, model_spec, device(device_name, quiet), options, crf, overwrite, quiet)
    report(result, as_json, quiet, f"wrote {dst}: {result['frames']} frames {result['width']}x{result['height']}")


@click.command(epilog=EXIT_CODES_EPILOG)
@paths[0]
@paths[1]
@click.option("--factor", type=FRACTION, help="Frame-rate multiple, e.g. 2 (any number > 1).")
@click.option("--fps", type=FRACTION, help="Target frame rate instead of --factor, e.g. 60 or 60000/1001.")
@_decode_flags
def interpolate(src, dst, factor, fps, ratio, model_spec, steps, seed, temperature, no_extension, tile, crf,
                device_name, overwrite, quiet, as_json):
    """Decode SRC (a video or an .rgl) at a higher frame rate into DST, same duration.

    N source frames give floor((N-1) F) + 1 frames at F times the frame rate."""
    from ..files.decode import interpolate_file
    from ..files.inspect import input_frame_rate
    if (factor is None) == (fps is None):
        raise click.UsageError("give exactly one of --factor and --fps")
    if fps is not None:   # resolved before a video input is encoded: a wrong rate costs no encoding
        input_fps = input_frame_rate(src)
        if fps <= input_fps:
            raise click.UsageError(f"--fps {float(fps):.6g} is not above the input's {float(input_fps):.6g} fps: "
                                   "interpolation raises the frame rate")
        factor = fps / input_fps
    if factor <= 1:
        raise click.BadParameter("must be greater than 1", param_hint="--factor")
    result = interpolate_file(src, dst, factor, ratio, model_spec, device(device_name, quiet),
                              decode_options(steps, seed, temperature, no_extension, tile), crf, overwrite, quiet)
    report(result, as_json, quiet, f"wrote {dst}: {result['frames']} frames at {result['fps']} fps")


@click.command(epilog=EXIT_CODES_EPILOG)
@paths[0]
@paths[1]
@click.option("--future", type=click.IntRange(0), default=0, show_default=True, help="Frames to predict after the end.")
@click.option("--past", type=click.IntRange(0), default=0, show_default=True, help="Frames to predict before the start.")
@click.option("--only-new", is_flag=True, help="Write only the predicted frames (at the average frame rate, one after another).")
@_decode_flags
def extrapolate(src, dst, future, past, only_new, ratio, model_spec, steps, seed, temperature, no_extension, tile,
                crf, device_name, overwrite, quiet, as_json):
    """Decode SRC (a video or an .rgl) with --past N predicted frames before it and --future N after it.

    Beyond the trained horizon (k/4 frames) prediction continues autoregressively: the newest
    k+1 frames are re-encoded and the next frames predicted from them."""
    from ..codec.temporal import MAX_EXTRAPOLATION
    from ..files.decode import extrapolate_file
    if not (future <= MAX_EXTRAPOLATION and past <= MAX_EXTRAPOLATION and future + past > 0):
        raise click.UsageError(f"give --future and/or --past between 1 and {MAX_EXTRAPOLATION} frames")
    result = extrapolate_file(src, dst, future, past, only_new, ratio, model_spec, device(device_name, quiet),
                              decode_options(steps, seed, temperature, no_extension, tile), crf, overwrite, quiet)
    report(result, as_json, quiet, f"wrote {dst}: {result['frames']} frames")


COMMANDS = (encode, decode, interpolate, extrapolate)
