"""How to decode: sampling steps, seed, temperature, latent extension, tiling, precision.

`DecodeOptions` is what a caller asks for, with None meaning "the default"; it is resolved
once, against `DecodeDefaults` (an `.rgl` file's header, or the Python API's defaults),
into the complete options every decoder of a run uses. Latent extension is on only where
both the caller and the file allow it. Precision is one rule for every path
(`inference_model`): where the hardware computes bf16 natively (CUDA; CPUs with AVX512-BF16
or AMX) the encoder's convolution trunk, REGEN's DiT and the MAGVIT-v2 baseline's decoder run
with bf16 weights; elsewhere, where bf16 is emulated and several times slower, everything
runs in float32. The encoder's output layers (the int8 rounding) and REGEN's conditioning
always run in float32.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, replace
from typing import Optional

from models.config import SPATIAL_FACTOR

from ..errors import InvalidArgument

MAX_TEMPERATURE = 2.0    # sampling temperatures are in [0, MAX_TEMPERATURE]
MAX_STEPS = 1000
UNTILED = 1 << 20        # latent cells: a tile larger than any frame


@dataclass(frozen=True)
class DecodeDefaults:
    """The decode settings a latent file (or the API) prescribes when the caller gives none."""

    steps: int = 1
    seed: int = 0
    temperature: float = 1.0
    extension: bool = True

    @classmethod
    def from_header(cls, header) -> "DecodeDefaults":
        return cls(header.decode_steps, header.decode_seed, header.decode_temperature, header.latent_extension)


@dataclass(frozen=True)
class DecodeOptions:
    """None: take the default. `tile` in pixels (None: from the device, 0: whole frames);
    `temperature` scales the sampling noise (1: as trained, 0: the decoder's mean)."""

    steps: Optional[int] = None
    seed: Optional[int] = None
    temperature: Optional[float] = None
    extension: bool = True
    tile: Optional[int] = None

    def __post_init__(self) -> None:
        if self.steps is not None and not 1 <= self.steps <= MAX_STEPS:
            raise InvalidArgument(f"steps must be between 1 and {MAX_STEPS}, got {self.steps}")
        if self.temperature is not None and not 0 <= self.temperature <= MAX_TEMPERATURE:
            raise InvalidArgument(f"temperature must be between 0 and {MAX_TEMPERATURE:g}, got {self.temperature}")
        if self.tile is not None and (self.tile < 0 or self.tile % SPATIAL_FACTOR):
            raise InvalidArgument(f"tile must be 0 (no tiling) or a positive multiple of {SPATIAL_FACTOR} pixels, "
                                  f"got {self.tile}")

    def resolve(self, defaults: DecodeDefaults) -> "DecodeOptions":
        """Every field filled: the caller's value where given, else the default."""
        return replace(self, steps=self.steps or defaults.steps,
                       seed=defaults.seed if self.seed is None else self.seed,
                       temperature=defaults.temperature if self.temperature is None else self.temperature,
                       extension=self.extension and defaults.extension)

    @property
    def resolved(self) -> bool:
        return None not in (self.steps, self.seed, self.temperature)

    @property
    def tile_cells(self) -> Optional[int]:
        """The tile side in latent cells (None: automatic)."""
        if self.tile is None:
            return None
        return self.tile // SPATIAL_FACTOR if self.tile else UNTILED


def native_bf16(device) -> bool:
    """Whether `device` computes bfloat16 natively: CUDA, or a CPU with AVX512-BF16 or AMX."""
    import torch
    if device.type == "cuda":
        return True
    return device.type == "cpu" and (torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())


_COPIES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def inference_model(model):
    """What encoders and decoders run: `model` itself, or where bf16 is native on its device its
    bf16 inference copy (`LatentAutoencoder.inference_copy`: the encoder trunk and the decoder).
    The copy is kept while the model's weights are unchanged (their in-place version counters),
    so a training run's validation never decodes with stale weights; `release_inference_model`
    frees it where the model goes on changing (training)."""
    import torch
    device = next(model.parameters()).device
    if not native_bf16(device):
        return model
    version = (device, sum(p._version for p in model.parameters()))
    cached = _COPIES.get(model)
    if cached is None or cached[0] != version:
        cached = (version, model.inference_copy(torch.bfloat16))
        _COPIES[model] = cached
    return cached[1]


def release_inference_model(model) -> None:
    """Drop `model`'s cached inference copy (a training run's, between validations)."""
    _COPIES.pop(model, None)
