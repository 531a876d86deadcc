"""Bundled models and resolving `--model NAME|PATH`.

Bundled models are `regen_cli/weights/NAME.safetensors` with a model card `NAME.md`
beside each. `regen-{k}x` is the default model for ratio k.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import UsageError

WEIGHTS = Path(__file__).parent / "weights"


@dataclass(frozen=True)
class ModelRef:
    name: str     # the name recorded in .rgl headers
    path: Path


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
        return ModelRef(name, bundled[name])
    if spec in bundled:
        return ModelRef(spec, bundled[spec])
    path = Path(spec)
    if path.is_file():
        return ModelRef(path.name, path)
    known = ", ".join(bundled) or "none bundled"
    raise UsageError(f"model {spec!r} is neither a bundled model ({known}) nor an existing file")
