"""regen's exceptions: what went wrong, in domain terms.

Each derives from the built-in exception a Python caller would expect (`ValueError`,
`FileNotFoundError`, ...), so `except ValueError` works too. They name no command-line
flags and carry no exit codes: the command line maps them (`regen_cli.cli`).
"""

from __future__ import annotations


class RegenError(Exception):
    """Base of every error regen raises on purpose."""


class InvalidArgument(RegenError, ValueError):
    """A value passed by the caller is not acceptable (a tile size, a factor, a shape...)."""


class ConfigError(InvalidArgument):
    """A training config field has an invalid value; `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = message


class NotFound(RegenError, FileNotFoundError):
    """An input file or folder, or an output's folder, does not exist."""


class OutputExists(RegenError, FileExistsError):
    """The output file exists and replacing it was not allowed."""

    def __init__(self, path) -> None:
        super().__init__(f"{path} exists")
        self.path = path


class ExportExists(OutputExists):
    """The output folder holds an export made with other settings (resuming it would mix them)."""

    def __init__(self, path, differences: list[str]) -> None:
        RegenError.__init__(self, f"{path} holds an export made with other settings ({', '.join(differences)} "
                                  "differ); resuming it would mix them")
        self.path = path
        self.differences = differences


class OutputError(RegenError, OSError):
    """The output could not be written (disk full, permissions, read-only file system)."""


class CorruptFile(RegenError, ValueError):
    """An input file is damaged or truncated (an `.rgl`, a model file, video data)."""


class CheckpointError(CorruptFile):
    """A model file that is not a regen model or does not match its config."""


class ModelNotFound(RegenError, LookupError):
    """A model name that is neither bundled nor an existing file."""


class NoBundledModel(ModelNotFound):
    """No bundled model exists for the asked ratio in this install."""


class ModelMismatch(RegenError, ValueError):
    """The model is not the one a latent file was encoded with."""


class ModelNotBundled(ModelMismatch):
    """A latent file names a model that is not bundled here, and no model was given."""


class UnsupportedInput(RegenError, ValueError):
    """An input regen cannot handle: not a video, no frames, an absurd size, a newer format."""


class MissingDependency(RegenError, ImportError):
    """An optional package that this feature needs is not installed (the message says how to install it)."""


class DeviceUnavailable(RegenError, RuntimeError):
    """The asked compute device is not available on this machine."""
