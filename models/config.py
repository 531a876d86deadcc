"""Frozen dataclass configs for every network, the named presets, and JSON (de)serialisation.

A config is the whole recipe for a model: together with a state dict it rebuilds the
network exactly. Configs are stored as JSON in the safetensors metadata, never pickled.

Glossary used in docstrings across `models/`: B batch, C channels, T frames, H/W pixel
height/width, h/w latent height/width (H/8, W/8), N tokens, D hidden width, k the
temporal ratio (a chunk holds k+1 frames and encodes to two latent frames).
"""

from __future__ import annotations

import dataclasses
import json
import typing
from dataclasses import dataclass, field

RATIOS = (4, 8, 16, 32)
LATENT_CHANNELS = 8
SPATIAL_FACTOR = 8
PRESET_SIZES = ("paper", "small", "medium", "tiny")   # models.presets defines each


@dataclass(frozen=True)
class EncoderConfig:
    ratio: int = 16                       # k: a chunk of k+1 frames becomes two latent frames
    base_channels: int = 128              # channels of the first stage
    channel_mults: tuple[int, ...] = (1, 2, 4, 6, 6)  # one entry per stage; the first three transitions halve H and W
    num_res_blocks: int = 2               # residual blocks per stage
    latent_channels: int = LATENT_CHANNELS

    def __post_init__(self) -> None:
        if self.ratio not in RATIOS:
            raise ValueError(f"ratio must be one of {RATIOS}, got {self.ratio}")
        if len(self.channel_mults) < 4:
            raise ValueError("the encoder needs at least 4 stages (3 spatial halvings)")


@dataclass(frozen=True)
class ConditioningConfig:
    ratio: int = 16                       # frame times are divided by k, so a chunk spans tau in [0, 1]
    latent_channels: int = LATENT_CHANNELS
    fourier_bands: int = 4                # sin/cos of 2^j * pi * tau for j < bands, plus tau; log2(k) keeps
                                          # every band below the frame-rate Nyquist limit, so all features
                                          # vary across the chunk's frames and interpolate smoothly
    siren_width: int = 256                # hidden width of the modulated SIREN M_t
    siren_depth: int = 3                  # modulated sine layers in M_t
    siren_omega: float = 30.0             # SIREN frequency scale of the first layer
    first_frame_replacement: bool = True  # frame time 0 takes the SIREN's prediction in the z_c slot
    width: int = 2048                     # output width (the DiT's D)


@dataclass(frozen=True)
class DiTConfig:
    width: int = 2048                     # D
    depth: int = 24                       # transformer blocks
    heads: int = 16
    mlp_ratio: float = 4.0
    patch: int = SPATIAL_FACTOR           # one token per latent cell per frame
    channels: int = 3
    refine_channels: int = 0              # hidden channels of the pixel refinement after un-patchifying (0: none)
    refine_features: int = 8              # extra per-pixel channels the head passes to the refinement

    def __post_init__(self) -> None:
        if self.width % self.heads:
            raise ValueError("width must be divisible by heads")


@dataclass(frozen=True)
class DiffusionConfig:
    """Rectified flow x_t = (1 - t) x0 + t * noise, t in [0, 1], with x0 prediction.

    One sampling step from t = 1 returns the network's x0 estimate, so one step is a
    reconstruction by construction. Training times: with probability `terminal_fraction`
    t = 1 exactly (the one-step operating point); otherwise t = sigmoid(N(logit_mean, logit_std)).
    `shared_noise`: one noise image per clip, the same at every frame time (training draws it
    so, and decoders must sample so), instead of an independent draw per frame: generated
    detail then stays put from frame to frame instead of shimmering.
    """

    terminal_fraction: float = 0.5
    logit_mean: float = 0.0
    logit_std: float = 1.0
    shared_noise: bool = False


@dataclass(frozen=True)
class RegenConfig:
    """REGEN: causal conv encoder + latent conditioning + pixel-space DiT decoder."""

    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    conditioning: ConditioningConfig = field(default_factory=ConditioningConfig)
    dit: DiTConfig = field(default_factory=DiTConfig)
    diffusion: DiffusionConfig = field(default_factory=DiffusionConfig)
    architecture: str = "regen"

    def __post_init__(self) -> None:
        if self.encoder.ratio != self.conditioning.ratio:
            raise ValueError("encoder and conditioning ratios differ")
        if self.conditioning.width != self.dit.width:
            raise ValueError("conditioning width must equal the DiT width")
        if self.encoder.latent_channels != self.conditioning.latent_channels:
            raise ValueError("encoder and conditioning latent channels differ")

    @property
    def ratio(self) -> int:
        return self.encoder.ratio


@dataclass(frozen=True)
class BaselineDecoderConfig:
    """MAGVIT-v2 causal 3D-conv decoder, the mirror of the encoder."""

    ratio: int = 16
    base_channels: int = 128
    channel_mults: tuple[int, ...] = (1, 2, 4, 6, 6)
    num_res_blocks: int = 2
    latent_channels: int = LATENT_CHANNELS


@dataclass(frozen=True)
class Magvit2Config:
    """The paper's baseline: the same encoder with a deterministic causal conv decoder."""

    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    decoder: BaselineDecoderConfig = field(default_factory=BaselineDecoderConfig)
    architecture: str = "magvit2"

    def __post_init__(self) -> None:
        if self.encoder.ratio != self.decoder.ratio:
            raise ValueError("encoder and decoder ratios differ")

    @property
    def ratio(self) -> int:
        return self.encoder.ratio


ModelConfig = typing.Union[RegenConfig, Magvit2Config]
_ARCHITECTURES = {"regen": RegenConfig, "magvit2": Magvit2Config}


def config_to_json(config: ModelConfig) -> str:
    return json.dumps(dataclasses.asdict(config), sort_keys=True)


def _build(cls, data: dict):
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = set(data) - known
    if unknown:
        raise ValueError(f"unknown {cls.__name__} fields: {sorted(unknown)}")
    kwargs = {}
    for name, value in data.items():
        hint = hints[name]
        if dataclasses.is_dataclass(hint):
            value = _build(hint, value)
        elif typing.get_origin(hint) is tuple:
            value = tuple(value)
        kwargs[name] = value
    return cls(**kwargs)


def config_from_json(text: str) -> ModelConfig:
    """Inverse of `config_to_json`; raises ValueError on anything it does not know."""
    data = json.loads(text)
    if not isinstance(data, dict) or data.get("architecture") not in _ARCHITECTURES:
        raise ValueError("config JSON has no known 'architecture'")
    return _build(_ARCHITECTURES[data["architecture"]], data)
