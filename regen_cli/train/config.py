"""`TrainConfig`: every option of a training run, with its help text and its rules.

The config validates itself on construction, so a Python caller and `regen train` get the
same errors (`ConfigError`, naming the field). The command line builds one option per
field from the `help` metadata here. Saved as JSON in the run folder. Imports no torch.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field

from models.config import PRESET_SIZES, RATIOS, SPATIAL_FACTOR

from ..errors import ConfigError

DECODERS = ("regen", "magvit2")
INTERP_FACTORS = (2, 4, 8)


def _opt(default, help: str):
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class TrainConfig:
    data: tuple[str, ...] = _opt((), "Folders or files of training videos and images.")
    val: tuple[str, ...] = _opt((), "Validation videos, excluded from training; they pick the best checkpoint.")
    out: str = _opt("runs/regen", "Run folder: checkpoints, metrics.jsonl, model.safetensors.")
    ratio: int = _opt(16, "Temporal ratio k: chunks of k+1 frames (4, 8, 16 or 32).")
    size: str = _opt("small", "Preset size: tiny, small, medium or paper (models.presets).")
    decoder: str = _opt("regen", "regen, or magvit2 for the baseline.")
    init: str = _opt("", "Warm start: model file whose matching tensors are copied.")
    init_only: str = _opt("", "With --init: copy only tensors whose names start with this (e.g. encoder.).")
    steps: int = _opt(10000, "Optimiser steps.")
    batch: int = _opt(8, "Video clips per rank per micro-step.")
    image_batch: int = _opt(16, "Images per rank in an image micro-step.")
    image_ratio: float = _opt(0.2, "Share of micro-steps that are image batches.")
    still_motion: float = _opt(0.0, "Share of video clips made from still images by a synthetic pan and zoom.")
    accumulate: int = _opt(1, "Micro-steps per optimiser step.")
    target_frames: int = _opt(0, "REGEN: frames decoded per clip, a random subset of the targets (0 = all).")
    time_limit: float = _opt(0.0, "Minutes of training after which to checkpoint and stop (0 = none).")
    crop: int = _opt(64, "Training crop side in pixels (a multiple of 8).")
    min_scale: float = _opt(0.5, "Smallest random rescale of the cached frames before cropping.")
    cache_dir: str = _opt("~/.cache/regen/frames", "Folder of the decoded-frame cache.")
    cache_side: int = _opt(256, "Short side of cached frames in pixels.")
    lr: float = _opt(1e-3, "Peak learning rate.")
    weight_decay: float = _opt(0.01, "AdamW weight decay of weight matrices.")
    warmup: int = _opt(200, "Linear warm-up steps.")
    min_lr_ratio: float = _opt(0.1, "Final learning rate as a share of the peak (cosine decay).")
    grad_clip: float = _opt(1.0, "Gradient-norm clipping threshold.")
    ema: float = _opt(0.999, "EMA decay of the weights that are saved.")
    bf16: bool = _opt(True, "Autocast the encoder's convolutions and the decoder to bfloat16 where the hardware "
                            "has it natively (CUDA; CPUs with AVX512-BF16 or AMX); fp32 elsewhere, where emulated "
                            "bf16 is several times slower.")
    checkpoint_activations: bool = _opt(False, "Recompute DiT blocks in backward (big models).")
    fsdp: bool = _opt(False, "FSDP2 sharding under torchrun.")
    ckpt_every: int = _opt(250, "Steps between checkpoints and validations.")
    val_frames: int = _opt(34, "Frames of each validation video to validate on.")
    val_side: int = _opt(128, "Validation frames are centre-cropped squares of this side.")
    seed: int = _opt(0, "Seed of the weights, the data sampler and the noise.")
    recon_start: float = _opt(1.0, "Probability of reconstruction targets at step 0.")
    recon_end: float = _opt(0.5, "... from --ramp-steps on.")
    ramp_steps: int = _opt(5000, "Steps over which the target mix moves.")
    interp_share: float = _opt(0.5, "Interpolation's share of the non-reconstruction targets.")
    interp_max_factor: int = _opt(2, "Interpolation targets keep every F-th frame, F in 2, 4, .. up to this.")
    shared_noise: bool = _opt(False, "REGEN: one diffusion noise image per clip for all its frames.")
    refine_channels: int = _opt(0, "REGEN: hidden channels of a convolutional refinement of the decoded pixels, "
                                   "which removes the 8x8 patch grid (0 = none; starts as the identity).")
    workers: int = _opt(2, "Processes that sample the next steps' clips while this one trains (0 = in the loop).")

    def __post_init__(self) -> None:
        object.__setattr__(self, "data", tuple(self.data))
        object.__setattr__(self, "val", tuple(self.val))
        rules = [
            ("ratio", self.ratio in RATIOS, f"must be one of {', '.join(map(str, RATIOS))}"),
            ("size", self.size in PRESET_SIZES, f"must be one of {', '.join(PRESET_SIZES)}"),
            ("decoder", self.decoder in DECODERS, f"must be one of {', '.join(DECODERS)}"),
            ("crop", self.crop > 0 and self.crop % SPATIAL_FACTOR == 0, f"must be a multiple of {SPATIAL_FACTOR}"),
            ("interp_max_factor", self.interp_max_factor in INTERP_FACTORS,
             f"must be one of {', '.join(map(str, INTERP_FACTORS))}"),
            ("workers", self.workers >= 0, "must be 0 or more"),
            ("steps", self.steps >= 1, "must be at least 1"),
            ("batch", self.batch >= 1, "must be at least 1"),
            ("image_batch", self.image_batch >= 1, "must be at least 1"),
            ("accumulate", self.accumulate >= 1, "must be at least 1"),
            ("ckpt_every", self.ckpt_every >= 1, "must be at least 1"),
            ("image_ratio", 0 <= self.image_ratio <= 1, "must be between 0 and 1"),
            ("still_motion", 0 <= self.still_motion <= 1, "must be between 0 and 1"),
            ("interp_share", 0 <= self.interp_share <= 1, "must be between 0 and 1"),
            ("recon_start", 0 <= self.recon_start <= 1, "must be between 0 and 1"),
            ("recon_end", 0 <= self.recon_end <= 1, "must be between 0 and 1"),
            ("min_scale", 0 < self.min_scale <= 1, "must be in (0, 1]"),
            ("shared_noise", not (self.shared_noise and self.decoder != "regen"),
             "is for REGEN decoders (the baseline decoder has no noise)"),
            ("refine_channels", self.refine_channels >= 0 and not (self.refine_channels and self.decoder != "regen"),
             "must be 0 or more, and is for REGEN decoders"),
        ]
        for name, ok, message in rules:
            if not ok:
                raise ConfigError(name, message)

    @property
    def preset(self) -> str:
        return f"{self.decoder}-{self.size}-{self.ratio}x"

    def schedule(self):
        """The `targets.TargetSchedule` of this run."""
        from .targets import TargetSchedule
        return TargetSchedule(self.recon_start, self.recon_end, self.ramp_steps, self.interp_share,
                              self.interp_max_factor)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)
