"""regen: compress videos into tiny latents and decode them with a generative decoder.

    import regen_cli as regen
    model = regen.load_model("regen_cli/weights/regen-16x.safetensors")
    latents = regen.encode(model, video)       # (3, T, H, W) in [-1, 1] -> VideoLatents
    frames = regen.decode(model, latents)      # -> (3, T, H, W)

Names load on first use (PEP 562): importing the package imports no torch, so the command
line starts instantly; the first use of a name below imports what it needs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "build_model": "models", "count_parameters": "models", "preset_names": "models",
    "encode": ".api", "decode": ".api", "interpolate": ".api", "extrapolate": ".api",
    "VideoLatents": ".codec.latents", "DecodeOptions": ".codec.options",
    "load_model": ".io.checkpoints", "save_model": ".io.checkpoints", "weights_sha256": ".io.checkpoints",
    "CheckpointError": ".errors", "RegenError": ".errors", "CorruptFile": ".errors", "ModelMismatch": ".errors",
    "UnsupportedInput": ".errors", "InvalidArgument": ".errors",
    "LatentDataset": ".export.dataset", "LatentWindows": ".export.dataset", "LatentRangeWarning": ".codec.latents",
    "save_latents": ".export.latent_file", "read_latents": ".export.latent_file",
}

if TYPE_CHECKING:
    from models import build_model, count_parameters, preset_names

    from .api import decode, encode, extrapolate, interpolate
    from .codec.latents import LatentRangeWarning, VideoLatents
    from .codec.options import DecodeOptions
    from .errors import CheckpointError, CorruptFile, InvalidArgument, ModelMismatch, RegenError, UnsupportedInput
    from .export.dataset import LatentDataset, LatentWindows
    from .export.latent_file import read_latents, save_latents
    from .io.checkpoints import load_model, save_model, weights_sha256


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'regen_cli' has no attribute {name!r}")
    module = _EXPORTS[name]
    value = getattr(importlib.import_module(module, None if module == "models" else __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


__all__ = ["__version__", *sorted(_EXPORTS)]
