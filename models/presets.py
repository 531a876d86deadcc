"""Named presets: `regen-{size}-{k}x` and `magvit2-{size}-{k}x` for k in 4, 8, 16, 32.

Sizes:
- `paper`: the REGEN paper's model (encoder base 128, multipliers (1,2,4,6) at 4x and
  (1,2,4,6,6) above; DiT 24 blocks, width 2048, 16 heads, patch 8: ~1.2B decoder params).
- `small`: trains on a laptop CPU (about 2.5M encoder and 5M DiT parameters).
- `medium`: the small encoder (so `--init-only encoder.` transfers it) with a DiT of width
  384 in 6 blocks (about 11M decoder parameters, 2.2x small's), the larger-decoder point of
  the size study in docs/experiments.md.
- `tiny`: for tests; a training step takes milliseconds.
The `magvit2-*` baselines use the same encoder and a causal conv decoder whose base width
is chosen so its parameter count matches the REGEN decoder (conditioning + DiT) of the
same size and ratio.
"""

from __future__ import annotations

import functools
import math

import torch

from .baseline_decoder import CausalConvDecoder
from .config import (PRESET_SIZES, RATIOS, BaselineDecoderConfig, ConditioningConfig, DiTConfig, EncoderConfig,
                     Magvit2Config, ModelConfig, RegenConfig)

# size -> (encoder base, 4x multipliers, >4x multipliers, res blocks,
#          siren width, siren depth, DiT width, DiT depth, DiT heads)
_SIZES = {
    "paper": (128, (1, 2, 4, 6), (1, 2, 4, 6, 6), 2, 256, 3, 2048, 24, 16),
    "small": (16, (1, 2, 4, 8), (1, 2, 4, 8, 8), 1, 64, 3, 256, 6, 4),
    "medium": (16, (1, 2, 4, 8), (1, 2, 4, 8, 8), 1, 64, 3, 384, 6, 6),
    "tiny": (16, (1, 1, 2, 2), (1, 1, 2, 2, 2), 1, 16, 2, 32, 2, 2),
}
assert tuple(_SIZES) == PRESET_SIZES, "models.config.PRESET_SIZES names every size"


def regen_preset(size: str, ratio: int) -> RegenConfig:
    base, mults4, mults, blocks, sw, sd, width, depth, heads = _SIZES[size]
    return RegenConfig(
        encoder=EncoderConfig(ratio=ratio, base_channels=base, channel_mults=mults4 if ratio == 4 else mults,
                              num_res_blocks=blocks),
        conditioning=ConditioningConfig(ratio=ratio, fourier_bands=int(math.log2(ratio)), siren_width=sw, siren_depth=sd, width=width),
        dit=DiTConfig(width=width, depth=depth, heads=heads),
    )


def count_parameters(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def _baseline_params(config: BaselineDecoderConfig) -> int:
    with torch.device("meta"):
        return count_parameters(CausalConvDecoder(config))


def regen_decoder_params(config: RegenConfig) -> int:
    """Parameters of the REGEN decoder side: conditioning + DiT (built on the meta device)."""
    from .conditioning import LatentConditioning
    from .dit import DiTDecoder
    with torch.device("meta"):
        return count_parameters(LatentConditioning(config.conditioning)) + count_parameters(DiTDecoder(config.dit))


def matched_baseline_decoder(regen: RegenConfig) -> BaselineDecoderConfig:
    """The baseline decoder (encoder's multipliers and depth) whose base width, a multiple of
    2, gives the parameter count closest to the REGEN decoder's."""
    enc = regen.encoder
    target = regen_decoder_params(regen)

    def make(base: int) -> BaselineDecoderConfig:
        return BaselineDecoderConfig(ratio=enc.ratio, base_channels=base, channel_mults=enc.channel_mults,
                                     num_res_blocks=enc.num_res_blocks)

    lo, hi = 1, 2
    while _baseline_params(make(2 * hi)) < target:
        lo, hi = hi, 2 * hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _baseline_params(make(2 * mid)) < target:
            lo = mid
        else:
            hi = mid
    best = min((lo, hi), key=lambda b: abs(_baseline_params(make(2 * b)) - target))
    return make(2 * best)


@functools.lru_cache(maxsize=None)
def preset(name: str) -> ModelConfig:
    """Config for a preset name such as 'regen-small-16x' or 'magvit2-paper-32x'."""
    parts = name.split("-")
    if (len(parts) != 3 or parts[0] not in ("regen", "magvit2") or parts[1] not in _SIZES
            or not parts[2].endswith("x") or not parts[2][:-1].isdigit() or int(parts[2][:-1]) not in RATIOS):
        raise KeyError(f"unknown preset {name!r}; known: {', '.join(preset_names())}")
    regen = regen_preset(parts[1], int(parts[2][:-1]))
    if parts[0] == "regen":
        return regen
    return Magvit2Config(encoder=regen.encoder, decoder=matched_baseline_decoder(regen))


def preset_names() -> list[str]:
    return [f"{arch}-{size}-{k}x" for arch in ("regen", "magvit2") for size in _SIZES for k in RATIOS]
