"""Save and load a model as one safetensors file with its config as JSON in the metadata.

Metadata keys: `format` = "regen-model", `format_version` = "1", `config` = the model's
config JSON (see `models.config_to_json`). Nothing is ever unpickled. Writes are atomic.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from models import Model, build_model, config_from_json, config_to_json

from ..errors import CheckpointError, NotFound
from .atomic import atomic_output

FORMAT = "regen-model"
FORMAT_VERSION = "1"


def save_model(model: Model, path: str | os.PathLike, dtype: torch.dtype | None = None) -> None:
    """Write `model`'s weights (optionally cast to `dtype`, e.g. torch.bfloat16) and config."""
    tensors = {name: (t.detach().to(dtype) if dtype is not None and t.is_floating_point() else t.detach())
               .contiguous().cpu() for name, t in model.state_dict().items()}
    metadata = {"format": FORMAT, "format_version": FORMAT_VERSION, "config": config_to_json(model.config)}
    with atomic_output(Path(path), overwrite=True) as tmp:
        save_file(tensors, str(tmp), metadata=metadata)


def load_model(path: str | os.PathLike, device: str | torch.device = "cpu") -> Model:
    """The model stored at `path`, in float32, in eval mode, on `device`."""
    path = Path(path)
    if not path.is_file():
        raise NotFound(f"model file not found: {path}")
    try:
        with safe_open(str(path), framework="pt") as f:
            metadata = f.metadata() or {}
            if metadata.get("format") != FORMAT:
                raise CheckpointError(f"{path} is not a regen model file (no '{FORMAT}' metadata)")
            if metadata.get("format_version") != FORMAT_VERSION:
                raise CheckpointError(f"{path} has model format version {metadata.get('format_version')}, "
                                      f"this regen reads {FORMAT_VERSION}; upgrade regen")
            state = {name: f.get_tensor(name) for name in f.keys()}
    except SafetensorError as exc:
        raise CheckpointError(f"{path} is not a readable safetensors file: {exc}") from None
    try:
        config = config_from_json(metadata["config"])
    except (ValueError, TypeError, KeyError) as exc:
        raise CheckpointError(f"{path} has an invalid model config: {exc}") from None
    model = build_model(config)
    try:
        model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    except RuntimeError as exc:
        raise CheckpointError(f"{path}: weights do not match the stored config: {exc}") from None
    return model.to(device).eval()


def weights_sha256(path: str | os.PathLike) -> str:
    """SHA-256 of the model file's bytes (identifies the exact weights in `.rgl` headers)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
