"""info and verify: read `.rgl` files without a model (and without importing torch)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .params import EXIT_CODES_EPILOG, json_option, quiet_option, report


@click.command(epilog=EXIT_CODES_EPILOG)
@click.argument("src", type=click.Path(path_type=Path))
@json_option
def info(src, as_json):
    """Show the header of the latent file SRC, its size, bits per pixel and compression ratio."""
    from ..files.inspect import file_info
    result = file_info(src)
    if as_json:
        click.echo(json.dumps(result))
        return
    width = max(map(len, result))
    for key, value in result.items():
        click.echo(f"{key:>{width}}: {value}")


@click.command(epilog=EXIT_CODES_EPILOG)
@click.argument("src", type=click.Path(path_type=Path))
@quiet_option
@json_option
def verify(src, quiet, as_json):
    """Check every checksum of the latent file SRC (needs no model)."""
    from ..files.inspect import verify_file
    result = verify_file(src)
    report(result, as_json, quiet, f"{src}: ok ({result['chunks']} chunks, {result['bytes']:,} bytes)")


COMMANDS = (info, verify)
