"""The batches of each optimiser step, built from (seed, step, rank) alone.

So `workers` processes can prepare steps ahead of the loop, a resumed run sees exactly the
data it would have seen, and ranks see different data.
"""

from __future__ import annotations

import numpy as np
import torch

from ..errors import ConfigError
from .config import TrainConfig
from .data import Augment, FrameCache, sample_clips, sample_images, step_rng
from .targets import KINDS, TargetSchedule, make_targets, source_length, subsample_targets

MicroBatch = tuple[str, torch.Tensor, torch.Tensor, torch.Tensor, int]   # kind, inputs, targets, times, noise seed


def check_clip_lengths(cfg: TrainConfig, cache: FrameCache, schedule: TargetSchedule | None) -> None:
    """Refuse before training, not mid-run, when no training video is long enough for a target
    kind the schedule can draw (None: reconstruction only, the baseline); the target mix moves
    linearly, so its ends show every kind it draws. Moving stills, when enabled and present,
    are any length."""
    if cfg.still_motion > 0 and any(len(c.frames) == 1 for c in cache.clips):
        return
    ends = [schedule.probabilities(0), schedule.probabilities(schedule.ramp_steps)] if schedule else [(1, 0, 0)]
    longest = max((len(c.frames) for c in cache.videos), default=0)
    for kind, *shares in zip(KINDS, *ends):
        needed = source_length(kind, cfg.ratio, cfg.interp_max_factor)
        if max(shares) > 0 and longest < needed:
            raise ConfigError("data", f"{kind} targets at {cfg.ratio}x need training videos of {needed} frames; "
                              f"the longest has {longest} (add longer videos, change the target mix or "
                              "interp_max_factor, or use still_motion with still images)")


def micro_batch(cfg: TrainConfig, cache: FrameCache, aug: Augment, schedule: TargetSchedule, step: int,
                rng: np.random.Generator, regen: bool) -> tuple[str, torch.Tensor, torch.Tensor, torch.Tensor]:
    """One micro-batch: (kind, inputs (B, 3, k+1, c, c), targets (B, 3, T', c, c), times (B, T'))."""
    if rng.random() < cfg.image_ratio:
        images = sample_images(cache, cfg.image_batch, aug, rng)
        return "image", images, images, torch.zeros(cfg.image_batch, 1)
    kind = schedule.choose(step, rng) if regen else "reconstruction"
    factor = schedule.interp_factor(rng) if kind == "interpolation" else 2
    clips = sample_clips(cache, source_length(kind, cfg.ratio, factor), cfg.batch, aug, rng, cfg.still_motion)
    inputs, targets, times = make_targets(kind, clips, cfg.ratio, rng, factor)
    if regen and cfg.target_frames:
        targets, times = subsample_targets(targets, times, cfg.target_frames, rng)
    return kind, inputs, targets, times


class StepBatches(torch.utils.data.Dataset):
    """Item i: the micro-batches of optimiser step start + i, each with the seed of its diffusion noise."""

    def __init__(self, cfg: TrainConfig, cache: FrameCache, schedule: TargetSchedule, regen: bool,
                 rank: int, start: int) -> None:
        self.cfg, self.cache, self.schedule, self.regen = cfg, cache, schedule, regen
        self.rank, self.start = rank, start
        self.aug = Augment(cfg.crop, cfg.min_scale)

    def __len__(self) -> int:
        return max(self.cfg.steps - self.start, 0)

    def __getitem__(self, index: int) -> list[MicroBatch]:
        step = self.start + index
        rng = step_rng(self.cfg.seed, step, self.rank)
        micro = []
        for _ in range(self.cfg.accumulate):
            batch = micro_batch(self.cfg, self.cache, self.aug, self.schedule, step, rng, self.regen)
            micro.append((*batch, int(rng.integers(1 << 62))))
        return micro


def step_loader(dataset: StepBatches, workers: int, pin: bool) -> torch.utils.data.DataLoader:
    """Steps in order; with workers, each prepares whole steps ahead (one torch thread each)."""
    return torch.utils.data.DataLoader(dataset, batch_size=None, shuffle=False, num_workers=workers,
                                       prefetch_factor=4 if workers else None, pin_memory=pin,
                                       collate_fn=_as_is)


def _as_is(item):
    return item
