"""compare: regen against classical codecs (x264, x265, SVT-AV1 via PyAV) at the same bytes, with pictures."""

from __future__ import annotations

import json
from pathlib import Path

import click

from models.config import RATIOS

from ..errors import InvalidArgument, NotFound, OutputExists
from .params import EXIT_CODES_EPILOG, RATIO, device, device_option, json_option, quiet_option
from .tables import compare_table


@click.command("compare", epilog=EXIT_CODES_EPILOG + """

Bytes compared: regen's whole .rgl file against the codec's packets (the raw elementary
stream with its in-band headers, no container). Every bitstream is kept in DIR/streams/.""")
@click.argument("videos", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
              help="Folder for report.json, the PNGs and streams/ (created if missing).")
@click.option("--ratio", "ratios", type=RATIO, multiple=True, metavar="K",
              help="Ratio of a bundled model; repeat it (--ratio 4 --ratio 16) or list several after one "
                   "(--ratio 4 8). Default: 4 8 16 32.")
@click.option("--model", "model_specs", multiple=True, metavar="NAME|PATH",
              help="A model per --ratio, in the same order, instead of the bundled ones.")
@click.option("--codecs", default="x264,x265,svtav1", show_default=True,
              help="Comma-separated classical codecs: x264, x265, svtav1, vp9. One missing from PyAV's FFmpeg "
                   "is skipped and said so.")
@click.option("--max-side", type=click.IntRange(16), default=512, show_default=True,
              help="Downscale sources whose long side is larger (the reference is the downscaled video).")
@click.option("--max-frames", type=click.IntRange(1), help="Compare only the first frames of each video.")
@click.option("--pictures/--no-pictures", default=True, show_default=True,
              help="Draw the PNGs (needs matplotlib); also decodes without latent extension and runs "
                   "interpolation and extrapolation for them.")
@click.option("--steps", type=click.IntRange(1, 1000), help="Sampling steps (default: the file's, 1).")
@click.option("--seed", type=int, help="Sampling seed (default: the file's, 0).")
@device_option
@click.option("-y", "--overwrite", is_flag=True, help="Replace an existing DIR/report.json and the files beside it.")
@quiet_option
@json_option
def compare_command(videos, out, ratios, model_specs, codecs, max_side, max_frames, pictures, steps, seed,
                    device_name, overwrite, quiet, as_json):
    """Compare regen with classical codecs on VIDEOS at the same bytes: report.json, a table and PNGs in DIR."""
    ratios, videos = _ratios(ratios, videos)
    for video in videos:
        if not video.is_file():
            raise NotFound(f"input not found: {video}")
    if out.exists() and not out.is_dir():
        raise InvalidArgument(f"--out {out} is a file; give a folder")
    report_path = out / "report.json"
    if report_path.exists() and not overwrite:
        raise OutputExists(report_path)
    from ..eval import codecs as classical
    chosen = classical.parse_codecs(codecs)
    missing = {c.name: f"PyAV's FFmpeg has no {m}" for c in chosen if (m := classical.missing_from_ffmpeg(c))}
    say = (lambda line: None) if quiet else (lambda line: click.echo(line, err=True))
    for name, why in missing.items():
        click.echo(f"warning: skipping {name}: {why}", err=True)
    no_plots = None
    if pictures:
        from ..eval.pictures import require_matplotlib
        try:
            require_matplotlib()
        except ImportError as exc:
            no_plots = exc
            click.echo(f"warning: {exc}; report.json and the table will still be written", err=True)
    if model_specs and len(model_specs) != len(ratios):
        raise InvalidArgument(f"--model given {len(model_specs)} times for {len(ratios)} ratios: give one "
                              "--model per --ratio, in the same order")
    from ..codec.options import DecodeOptions
    from ..eval.compare import compare
    from ..io.atomic import atomic_output
    from ..io.zoo import resolve_model
    refs = [resolve_model(spec, r) for spec, r in zip(model_specs, ratios)] if model_specs else \
        [resolve_model(None, r) for r in ratios]
    out.mkdir(parents=True, exist_ok=True)
    available = [c for c in chosen if c.name not in missing]
    report, shown = compare(list(videos), refs, ratios, available, device(device_name, quiet), out,
                            DecodeOptions(steps, seed), max_side, max_frames, pictures and no_plots is None, say)
    report["missing_codecs"] = missing
    report["pictures"] = []
    if pictures and no_plots is None:
        from ..eval.pictures import draw
        report["pictures"] = [str(p) for p in draw(report, shown, out)]
    with atomic_output(report_path, True) as tmp:
        tmp.write_text(json.dumps(report, indent=1))
    if as_json:
        click.echo(json.dumps(report))
    else:
        for line in compare_table(report):
            click.echo(line)
    if not quiet:
        click.echo(f"wrote {report_path}" + (f" and {len(report['pictures'])} PNGs" if report["pictures"] else ""),
                   err=True)
    if no_plots is not None:
        raise no_plots


def _ratios(given: tuple[int, ...], videos: tuple[Path, ...]) -> tuple[list[int], list[Path]]:
    """(ratios, videos). `--ratio 4 8 16`: click takes the 4 and leaves 8 and 16 among the
    VIDEOS arguments, so after a --ratio, arguments that are a ratio and not a file are ratios."""
    ratios = list(given)
    if given:
        names = {str(r) for r in RATIOS}
        ratios += [int(str(v)) for v in videos if str(v) in names and not v.exists()]
        videos = tuple(v for v in videos if not (str(v) in names and not v.exists()))
    if not videos:
        raise InvalidArgument("no video given: regen compare VIDEO... --out DIR")
    return list(dict.fromkeys(ratios or RATIOS)), list(videos)


COMMANDS = (compare_command,)
