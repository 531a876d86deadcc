"""REGEN networks: encoder, latent conditioning, DiT decoder, rectified flow, MAGVIT-v2 baseline.

Imports torch, einops and the standard library only; never the application (`regen_cli`).
Names load on first use (PEP 562), so `models.config` (constants and configs) is importable
without torch: the latent file format and the command line read it at start-up.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .config import (LATENT_CHANNELS, RATIOS, SPATIAL_FACTOR, BaselineDecoderConfig, ConditioningConfig,
                     DiffusionConfig, DiTConfig, EncoderConfig, Magvit2Config, ModelConfig, RegenConfig,
                     config_from_json, config_to_json)

_LAZY = {"RectifiedFlow": ".diffusion", "Magvit2": ".magvit2", "Regen": ".regen", "count_parameters": ".presets",
         "preset": ".presets", "preset_names": ".presets", "build_model": ".build", "Model": ".build"}

if TYPE_CHECKING:
    from .build import Model, build_model
    from .diffusion import RectifiedFlow
    from .magvit2 import Magvit2
    from .presets import count_parameters, preset, preset_names
    from .regen import Regen


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'models' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name], __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "LATENT_CHANNELS", "RATIOS", "SPATIAL_FACTOR", "BaselineDecoderConfig", "ConditioningConfig", "DiffusionConfig",
    "DiTConfig", "EncoderConfig", "Magvit2", "Magvit2Config", "Model", "ModelConfig", "RectifiedFlow", "Regen",
    "RegenConfig", "build_model", "config_from_json", "config_to_json", "count_parameters", "preset",
    "preset_names",
]
