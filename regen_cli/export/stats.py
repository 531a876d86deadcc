"""Per-channel statistics of exported latents, accumulated exactly, and normalisation.

Latents are stored as int8 q in [-127, 127] (value q / 127). The statistics keep, per
channel of z_c and of z_m, the count of values and the integer sums of q and q^2. Integer
sums are exact and order-free: the statistics of a dataset are the same to the last bit
whether it was exported in one process, in N ranks, or resumed after an interruption, and
merging is adding. Mean and standard deviation (population, ddof 0) come from them in
exact integer arithmetic: var = (N S2 - S1^2) / N^2, over every latent cell (all chunks,
rows and columns) of every exported clip.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from models import LATENT_CHANNELS
from models.quantize import LEVELS

from ..errors import CorruptFile

PARTS = ("z_c", "z_m")
STD_FLOOR = 1e-6     # normalisation divides by max(std, STD_FLOOR): a constant channel maps to 0


@dataclass
class LatentSums:
    """Integer sums over int8 latents (chunks, 2, C, h, w): per part (z_c, z_m) and channel."""

    count: int = 0                                    # values per channel (chunks * h * w, summed)
    sums: tuple[list[int], list[int]] = None          # sum of q, per part and channel
    squares: tuple[list[int], list[int]] = None       # sum of q^2

    def __post_init__(self) -> None:
        zero = lambda: [0] * LATENT_CHANNELS   # noqa: E731
        self.sums = self.sums or (zero(), zero())
        self.squares = self.squares or (zero(), zero())

    def add(self, latents: np.ndarray) -> None:
        """Adds int8 latents (chunks, 2, C, h, w)."""
        q = latents.astype(np.int64)
        self.count += q.shape[0] * q.shape[3] * q.shape[4]
        s1, s2 = q.sum(axis=(0, 3, 4)), (q * q).sum(axis=(0, 3, 4))
        for p in range(2):
            self.sums[p][:] = [a + int(b) for a, b in zip(self.sums[p], s1[p])]
            self.squares[p][:] = [a + int(b) for a, b in zip(self.squares[p], s2[p])]

    def merge(self, other: "LatentSums") -> None:
        self.count += other.count
        for p in range(2):
            self.sums[p][:] = [a + b for a, b in zip(self.sums[p], other.sums[p])]
            self.squares[p][:] = [a + b for a, b in zip(self.squares[p], other.squares[p])]

    def to_json(self) -> dict:
        return {"count": self.count, "sum_q": list(map(list, self.sums)), "sum_q2": list(map(list, self.squares))}

    @classmethod
    def from_json(cls, data: dict) -> "LatentSums":
        return cls(int(data["count"]), tuple(list(map(int, s)) for s in data["sum_q"]),
                   tuple(list(map(int, s)) for s in data["sum_q2"]))

    def stats_json(self) -> dict:
        """The `stats.json` content: mean and std per channel of z_c and z_m, in latent units
        (the float values q / 127), and the sums they come from."""
        n = self.count
        out: dict = {"count_per_channel": n, "quantisation": f"q/{LEVELS}"}
        for p, part in enumerate(PARTS):
            mean = [s / (n * LEVELS) if n else 0.0 for s in self.sums[p]]
            var = [(n * s2 - s1 * s1) / (n * n) if n else 0.0 for s1, s2 in zip(self.sums[p], self.squares[p])]
            out[part] = {"mean": mean, "std": [math.sqrt(v) / LEVELS for v in var],
                         "sum_q": self.sums[p], "sum_q2": self.squares[p]}
        return out


@dataclass(frozen=True)
class LatentStats:
    """Per-channel mean and std of z_c and z_m (from `stats.json`), each (2, C) float64."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def from_json(cls, data: dict) -> "LatentStats":
        try:
            mean = np.array([data[p]["mean"] for p in PARTS], dtype=np.float64)
            std = np.array([data[p]["std"] for p in PARTS], dtype=np.float64)
        except (KeyError, TypeError, ValueError) as exc:
            raise CorruptFile(f"latent statistics are incomplete or malformed ({exc})") from None
        if mean.shape != (2, LATENT_CHANNELS) or std.shape != (2, LATENT_CHANNELS) or not np.isfinite(
                np.concatenate([mean, std])).all():
            raise CorruptFile("latent statistics must give a finite mean and std for each of the "
                              f"{LATENT_CHANNELS} channels of z_c and z_m")
        return cls(mean, std)

    def _tensors(self, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean = torch.as_tensor(self.mean, dtype=like.dtype, device=like.device)[:, :, None, None]
        std = torch.as_tensor(np.maximum(self.std, STD_FLOOR), dtype=like.dtype, device=like.device)
        return mean, std[:, :, None, None]

    def normalize(self, latents: torch.Tensor) -> torch.Tensor:
        """(..., 2, C, h, w) latent values -> (x - mean) / std per part and channel, same shape."""
        mean, std = self._tensors(latents)
        return (latents - mean) / std

    def denormalize(self, latents: torch.Tensor) -> torch.Tensor:
        """The inverse of `normalize`: (..., 2, C, h, w) -> x * std + mean."""
        mean, std = self._tensors(latents)
        return latents * std + mean
