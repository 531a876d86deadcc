"""Bundled models and resolving `--model NAME|PATH`.

Bundled models are `regen_cli/weights/NAME.safetensors` with a model card `NAME.md`
beside each and its measured quality in `NAME.json`, which may also name the sampling
temperature the model decodes best at (`decode_temperature`, chosen on training clips;
`regen encode` records it in the .rgl header as the file's default). `regen-{k}x` is the
default model for ratio k.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .errors import UsageError

WEIGHTS = Path(__file__).parent / "weights"


@dataclass(frozen=True)
class ModelRef:
    name: str     # the name recorded in .rgl headers
    path: Path
    temperature: float = 1.0   # default sampling temperature for files encoded with it


def _bundled_ref(name: str, path: Path) -> ModelRef:
    card = path.with_suffix(".json")
    quality = json.loads(card.read_text()) if card.exists() else {}
    return ModelRef(name, path, float(quality.get("decode_temperature", 1.0)))


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
            raise UsageError(f"no bundled model for {ratio}x in this install; pass --model PATH "
                             f"(a .safetensors file from `regen train`)")
        return _bundled_ref(name, bundled[name])
    if spec in bundled:
        return _bundled_ref(spec, bundled[spec])
    path = Path(spec)
    if path.is_file():
        return ModelRef(path.name, path)
    known = ", ".join(bundled) or "none bundled"
    raise UsageError(f"model {spec!r} is neither a bundled model ({known}) nor an existing file")
