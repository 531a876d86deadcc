"""Training targets (supplementary 2.2.2): reconstruction, interpolation, extrapolation.

Each turns a batch of consecutive source frames into (encoder input of k+1 frames,
k+1 target frames, their times relative to the encoded chunk's first frame):
- reconstruction: the chunk's own frames at times 0..k;
- interpolation: the chunk is every F-th frame of Fk+1 source frames (F = 2 by default),
  which come with F-1 more source frames on each side; targets are k random frames of the
  ones not encoded (times j + i/F from -(F-1)/F to k + (F-1)/F) plus one random encoded
  frame. The side frames teach the decoder the gap between consecutive chunks: chunks do
  not overlap, so an in-between time such as k + 1/2 is covered by no chunk's latents and
  is decoded from the chunks on both sides (timeline.py);
- extrapolation: the chunk is frames e..e+k of k+1+2e source frames (e = max(1, k/4));
  targets are the e frames before it (times -e..-1), the e after it (k+1..k+e), and
  k+1-2e random frames of the chunk itself.
The schedule moves from mostly reconstruction towards interpolation and extrapolation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..codec.temporal import horizon as margin
from ..errors import InvalidArgument

KINDS = ("reconstruction", "interpolation", "extrapolation")


@dataclass(frozen=True)
class TargetSchedule:
    recon_start: float = 1.0    # probability of reconstruction at step 0
    recon_end: float = 0.5      # ... from `ramp_steps` on
    ramp_steps: int = 5000
    interp_share: float = 0.5   # interpolation's share of the remaining probability
    interp_max_factor: int = 2  # interpolation keeps every F-th frame, F a power of two up to this

    def probabilities(self, step: int) -> tuple[float, float, float]:
        f = min(step / max(self.ramp_steps, 1), 1.0)
        recon = self.recon_start + f * (self.recon_end - self.recon_start)
        rest = 1.0 - recon
        return recon, rest * self.interp_share, rest * (1 - self.interp_share)

    def choose(self, step: int, rng: np.random.Generator) -> str:
        return KINDS[rng.choice(3, p=np.array(self.probabilities(step)))]

    def interp_factor(self, rng: np.random.Generator) -> int:
        """F for an interpolation clip: uniform over 2, 4, ... up to interp_max_factor (2 draws nothing)."""
        factors = [2 ** i for i in range(1, self.interp_max_factor.bit_length())]
        return factors[0] if len(factors) == 1 else int(rng.choice(factors))


def source_length(kind: str, ratio: int, factor: int = 2) -> int:
    """Consecutive source frames a clip needs for `kind` (`factor`: interpolation's F)."""
    return {"reconstruction": ratio + 1, "interpolation": factor * ratio + 1 + 2 * (factor - 1),
            "extrapolation": ratio + 1 + 2 * margin(ratio)}[kind]


def make_targets(kind: str, clips: torch.Tensor, ratio: int, rng: np.random.Generator,
                 factor: int = 2) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """clips (B, 3, L, H, W) with L = source_length(kind, ratio, factor) -> inputs (B, 3, k+1, H, W),
    targets (B, 3, k+1, H, W), times (B, k+1) float32."""
    k = ratio
    if kind == "reconstruction":
        index = np.arange(k + 1)
        inputs, times = clips, index.astype(np.float32)
    elif kind == "interpolation":
        side = factor - 1
        inputs = clips[:, :, side:side + factor * k + 1:factor]
        between = rng.choice([i for i in range(factor * k + 1 + 2 * side) if (i - side) % factor],
                             size=k, replace=False)
        index = np.sort(np.concatenate([between, [side + factor * rng.integers(k + 1)]]))
        times = (index - side) / float(factor)
    elif kind == "extrapolation":
        e = margin(k)
        inputs = clips[:, :, e:e + k + 1]
        inside = rng.choice(np.arange(e, e + k + 1), size=k + 1 - 2 * e, replace=False)
        index = np.sort(np.concatenate([np.arange(e), np.arange(e + k + 1, k + 1 + 2 * e), inside]))
        times = (index - e).astype(np.float32)
    else:
        raise InvalidArgument(f"unknown target kind {kind!r}")
    targets = clips[:, :, torch.from_numpy(index)]
    times = torch.tensor(times, dtype=torch.float32).expand(clips.shape[0], -1).contiguous()
    return inputs.contiguous(), targets.contiguous(), times


def subsample_targets(targets: torch.Tensor, times: torch.Tensor, count: int,
                      rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """A random subset of `count` target frames (B, 3, count, H, W) and their times (B, count),
    in time order; unchanged when there are no more than `count`. REGEN's decoder is
    conditioned per frame on its time, so this is an unbiased, cheaper estimate of the loss."""
    if targets.shape[2] <= count:
        return targets, times
    keep = torch.from_numpy(np.sort(rng.choice(targets.shape[2], count, replace=False)))
    return targets[:, :, keep].contiguous(), times[:, keep].contiguous()
