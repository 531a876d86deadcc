"""Building a model from its config or a preset name."""

from __future__ import annotations

from .config import Magvit2Config, ModelConfig, RegenConfig
from .magvit2 import Magvit2
from .presets import preset
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
