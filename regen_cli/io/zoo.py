"""Bundled models and resolving a model given by name or path.

Bundled models are `regen_cli/weights/NAME.safetensors` with a model card `NAME.md`
beside each and its measured quality in `NAME.json`, which may also name the sampling
temperature the model decodes best at (`decode_temperature`, chosen on validation clips;
encoding records it in the `.rgl` header as the file's default). `regen-{k}x` is the
default model for ratio k. Imports no torch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..errors import ModelNotFound, NoBundledModel

WEIGHTS = Path(__file__).parent.parent / "weights"


@dataclass(frozen=True)
class ModelRef:
    name: str     # the name recorded in .rgl headers
    path: Path
    temperature: float = 1.0   # default sampling temperature for files encoded with it


def model_card(path: Path) -> dict:
    """The measured-quality card `NAME.json` beside a bundled model file ({} if none)."""
    card = path.with_suffix(".json")
    return json.loads(card.read_text()) if card.exists() else {}


def _bundled_ref(name: str, path: Path) -> ModelRef:
    return ModelRef(name, path, float(model_card(path).get("decode_temperature", 1.0)))


def bundled_models() -> dict[str, Path]:
    return {p.stem: p for p in sorted(WEIGHTS.glob("*.safetensors"))}


def default_name(ratio: int) -> str:
    return f"regen-{ratio}x"


def resolve_model(spec: str | None, ratio: int | None = None) -> ModelRef:
    """A bundled name, a path to a .safetensors file, or None for the bundled default of `ratio`."""
    bundled = bundled_models()
    if spec is None:
        name = default_name(ratio)
        if name not in bundled:
            raise NoBundledModel(f"no bundled model for {ratio}x in this install")
        return _bundled_ref(name, bundled[name])
    if spec in bundled:
        return _bundled_ref(spec, bundled[spec])
    path = Path(spec)
    if path.is_file():
        return ModelRef(path.name, path)
    known = ", ".join(bundled) or "none bundled"
    raise ModelNotFound(f"model {spec!r} is neither a bundled model ({known}) nor an existing file")
