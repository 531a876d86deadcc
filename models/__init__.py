"""REGEN networks: encoder, latent conditioning, DiT decoder, rectified flow, MAGVIT-v2 baseline.

Imports torch, einops and the standard library only; never the application (`regen_cli`).
"""

from __future__ import annotations

import torch

from .config import (RATIOS, BaselineDecoderConfig, ConditioningConfig, DiffusionConfig, DiTConfig,
                     EncoderConfig, Magvit2Config, ModelConfig, RegenConfig, config_from_json,
                     config_to_json)
from .diffusion import RectifiedFlow
from .magvit2 import Magvit2
from .presets import count_parameters, preset, preset_names
from .regen import Regen

Model = Regen | Magvit2


def build_model(config: ModelConfig | str) -> Model:
    """A freshly initialised model from a config or a preset name."""
    if isinstance(config, str):
        config = preset(config)
    if isinstance(config, RegenConfig):
        return Regen(config)
    if isinstance(config, Magvit2Config):
        return Magvit2(config)
    raise TypeError(f"not a model config: {type(config).__name__}")


__all__ = [
    "RATIOS", "BaselineDecoderConfig", "ConditioningConfig", "DiffusionConfig", "DiTConfig", "EncoderConfig",
    "Magvit2", "Magvit2Config", "Model", "ModelConfig", "RectifiedFlow", "Regen", "RegenConfig",
    "build_model", "config_from_json", "config_to_json", "count_parameters", "preset", "preset_names", "torch",
]
