"""export: a dataset of videos -> latent shards, an index and statistics (docs/latents.md)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .params import (EXIT_CODES_EPILOG, device, device_option, json_option, model_option, quiet_option,
                     ratio_option, report)

INPUTS_FAILED = 7   # the export finished, but some inputs failed (they are in the index with their errors)


@click.command("export", epilog=EXIT_CODES_EPILOG)
@click.argument("sources", nargs=-1, required=True, type=click.Path(path_type=Path), metavar="SRC...")
@click.option("--out", required=True, type=click.Path(path_type=Path, file_okay=False), metavar="DIR",
              help="The export folder (created; a re-run with the same settings resumes it).")
@ratio_option("Ratio of the bundled model to export with.")
@model_option
@click.option("--max-side", type=click.IntRange(0), default=0, metavar="PIXELS",
              help="Downscale each video so its long side is at most PIXELS (0: full size).")
@click.option("--clip-frames", type=click.IntRange(0), default=0, metavar="N",
              help="Cut videos into clips of N frames, a multiple of k+1 (0: each video is one clip).")
@click.option("--shard-size", type=click.FloatRange(0, min_open=True), default=256.0, show_default=True,
              metavar="MB", help="Latent megabytes per shard, at most (a larger single clip gets its own).")
@click.option("--batch", type=click.IntRange(0), default=0, metavar="CHUNKS",
              help="Chunks per encoder batch, from several videos (0: 1 on CPU, 16 on CUDA).")
@device_option
@click.option("-y", "--overwrite", is_flag=True,
              help="Start over when DIR holds an export made with other settings (its files are removed).")
@quiet_option
@json_option
def export(sources, out, ratio, model_spec, max_side, clip_frames, shard_size, batch, device_name, overwrite, quiet,
           as_json):
    """Encode the videos SRC... (files, folders searched recursively, .txt lists of paths) into
    latent shards, an index and per-channel statistics in DIR, for training a generator.

    Resumable: after an interruption (even kill -9), the same command continues where the
    finished shards end. A video that fails is recorded in DIR/index.jsonl with its error and
    the rest is exported (exit 7). Under torchrun every rank exports its share of the videos:

    \b
    torchrun --nproc_per_node 8 -m regen_cli export videos/ --out latents/ --ratio 16
    """
    from ..export.run import ExportConfig, export_dataset
    from ..io.zoo import resolve_model
    from ..train.distributed import setup_distributed
    env = setup_distributed()
    chosen = env.device if env.world > 1 else device(device_name, quiet)
    config = ExportConfig(tuple(sources), out, resolve_model(model_spec, ratio), clip_frames, max_side,
                          int(shard_size * 1e6), batch, overwrite)
    result = export_dataset(config, env, chosen, quiet)
    if env.main:
        failed = f"; {result['failed']} of {result['videos']} videos failed (see {out / 'index.jsonl'})" \
            if result["failed"] else "; none failed"
        report(result, as_json, quiet, f"exported {result['clips']} clips ({result['chunks']} chunks) of "
                                       f"{result['videos']} videos into {result['shards']} shards in {out}{failed}")
    if env.world > 1:
        import torch.distributed as dist
        dist.destroy_process_group()
    if result["failed"]:
        sys.exit(INPUTS_FAILED)


COMMANDS = (export,)
