"""The `regen` command line: the click group, exit codes, and the mapping of errors to them.

Errors are one line `error: ...` on stderr with a documented exit code; `--json` prints one
JSON object on stdout; progress and logs go to stderr. Commands import torch only when
they run, so `regen --help`, `info` and `verify` start instantly.
"""

from __future__ import annotations

import os
import signal
import sys

import click

from .. import __version__
from ..errors import (ConfigError, CorruptFile, DeviceUnavailable, InvalidArgument, MissingDependency, ModelMismatch,
                      ModelNotBundled, ModelNotFound, NoBundledModel, NotFound, OutputError, OutputExists, RegenError,
                      UnsupportedInput)

from .params import EXIT_CODES_EPILOG as EXIT_CODES

# the first matching class in this order decides the exit code
EXIT_CODE_OF = ((InvalidArgument, 2), (NotFound, 2), (OutputExists, 2), (ModelNotFound, 2), (DeviceUnavailable, 2),
                (CorruptFile, 3), (ModelMismatch, 4), (UnsupportedInput, 5), (MissingDependency, 5), (OutputError, 6),
                (RegenError, 1))


def exit_code(exc: RegenError) -> int:
    return next(code for kind, code in EXIT_CODE_OF if isinstance(exc, kind))


def message(exc: RegenError) -> str:
    """The library's message, with the command-line flag that fixes it where there is one."""
    if isinstance(exc, OutputExists):
        return f"{exc}; pass -y/--overwrite to replace it"
    if isinstance(exc, NoBundledModel):
        return f"{exc}; pass --model PATH (a .safetensors file from `regen train`)"
    if isinstance(exc, ModelNotBundled):
        return f"{exc}; pass that model file with --model PATH"
    if isinstance(exc, DeviceUnavailable):
        return f"--device cuda: {exc}; use --device cpu"
    if isinstance(exc, ConfigError):
        return f"--{exc.field.replace('_', '-')}: {exc.reason}"
    return str(exc)


def _out_of_memory(exc: BaseException) -> bool:
    torch = sys.modules.get("torch")   # never imported just to check
    return isinstance(exc, MemoryError) or (torch is not None and isinstance(exc, torch.OutOfMemoryError))


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
            _fail(message(exc), exit_code(exc))
        except Exception as exc:  # a bug: one line unless REGEN_DEBUG is set
            if _out_of_memory(exc):
                _fail("out of memory; decode with a smaller --tile or use --device cpu", 1)
            if os.environ.get("REGEN_DEBUG"):
                raise
            _fail(f"internal error ({type(exc).__name__}: {exc}); rerun with REGEN_DEBUG=1 and report it", 1)


def _fail(text: str, code: int) -> None:
    click.echo(f"error: {text}", err=True)
    sys.exit(code)


@click.group(cls=RegenGroup, context_settings={"help_option_names": ["-h", "--help"]}, epilog=EXIT_CODES)
@click.version_option(__version__, prog_name="regen")
def cli() -> None:
    """Compress videos into tiny latent files and decode them with a generative decoder (REGEN)."""


def _register() -> None:
    from . import (codec_commands, compare_command, eval_command, export_command, file_commands, model_commands,
                   train_command)
    for module in (codec_commands, file_commands, eval_command, compare_command, export_command, model_commands,
                   train_command):
        for command in module.COMMANDS:
            cli.add_command(command)


_register()


def _terminated(signum, frame) -> None:
    raise KeyboardInterrupt   # `kill` is an interruption too: temporary outputs are removed, exit 130


def main() -> None:
    signal.signal(signal.SIGTERM, _terminated)
    cli(prog_name="regen")
