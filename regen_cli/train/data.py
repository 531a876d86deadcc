"""Training data: folders of videos and images, decoded once into an on-disk frame cache.

Decoding is kept off the training hot path: every source file is decoded once, resized so
its short side is `cache_side` pixels, and stored as a uint8 `.npy` file in the cache
folder (keyed by path, size, mtime and cache side). Training then slices memory-mapped
frames, which costs microseconds instead of a decode. Images (png, jpg, webp, bmp) are
one-frame entries.

Sampling is stateless: the clips of step s on rank r come from a generator seeded by
(seed, s, r), so a resumed run sees exactly the data it would have seen, and ranks see
different data. Videos are drawn uniformly (not by length), so one long file cannot
dominate. Augmentation: a random scale in [min_scale, 1] of the cached frames, a random
square crop of `crop` pixels, and a random horizontal flip, identical for all frames of
a clip. Still photos can also become video clips (`still_motion`): a synthetic camera pan
and zoom over the photo (`moving_still`), for motion on more varied content than the videos.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from einops import rearrange

from ..errors import InvalidArgument, NotFound
from ..io.atomic import atomic_output
from ..io.frames import downscale
from ..io.video import VIDEO_EXTS, VideoReader

IMAGE_EXTS = {".png", ".jpg", ".jpeg", ".webp", ".bmp"}


def find_media(paths: list[Path]) -> list[Path]:
    """Video and image files under `paths` (files or folders, searched recursively), sorted."""
    found = []
    for p in paths:
        if p.is_dir():
            found += [f for f in p.rglob("*") if f.suffix.lower() in VIDEO_EXTS | IMAGE_EXTS]
        elif p.is_file():
            found.append(p)
        else:
            raise NotFound(f"training data not found: {p}")
    return sorted(set(found))


def cache_frames(path: Path, cache_dir: Path, side: int) -> Path:
    """Decodes `path` once into `cache_dir`; returns the .npy file of uint8 (T, H, W, 3) frames."""
    stat = path.stat()
    key = hashlib.sha256(f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{side}".encode()).hexdigest()[:20]
    target = cache_dir / f"{path.stem}-{key}.npy"
    if target.exists():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    with VideoReader(path) as reader:
        frames = [downscale(f, side / min(f.shape[:2])) for f in reader.frames()]
    # a temporary file unique to this process, renamed into place: ranks that build the same
    # entry at once each write their own copy and the (identical) last one wins
    with atomic_output(target, overwrite=True) as tmp, open(tmp, "wb") as f:
        np.save(f, np.stack(frames))
    return target


@dataclass
class Clip:
    frames: np.ndarray   # memory-mapped uint8 (T, H, W, 3)
    name: str


class FrameCache:
    """All training media, memory-mapped from the cache."""

    def __init__(self, paths: list[Path], cache_dir: Path, side: int) -> None:
        self.clips = [Clip(np.load(cache_frames(p, cache_dir, side), mmap_mode="r"), p.name) for p in paths]
        if not self.clips:
            raise InvalidArgument("no training media found")
        self._index()

    def _index(self) -> None:
        self.videos = [c for c in self.clips if len(c.frames) > 1]
        self.total_frames = sum(len(c.frames) for c in self.clips)

    def __getstate__(self) -> dict:
        """Pickled as the cache files' names (data-loader workers under spawn/forkserver re-map them)."""
        return {"files": [(c.frames.filename, c.name) for c in self.clips]}

    def __setstate__(self, state: dict) -> None:
        self.clips = [Clip(np.load(f, mmap_mode="r"), name) for f, name in state["files"]]
        self._index()


@dataclass(frozen=True)
class Augment:
    crop: int = 64            # square crop side in pixels (multiple of 8)
    min_scale: float = 0.5    # random rescale of cached frames, in [min_scale, 1]
    flip: bool = True


def _random_side(h: int, w: int, aug: Augment, rng: np.random.Generator) -> int:
    """Side in source pixels of a square window that a random scale in [min_scale, 1] maps to `crop`."""
    lo = max(aug.min_scale, aug.crop / min(h, w))
    scale = rng.uniform(lo, 1.0) if lo < 1 else aug.crop / min(h, w)
    return min(max(aug.crop, int(round(aug.crop / scale))), h, w)


def _crop_clip(frames: np.ndarray, aug: Augment, rng: np.random.Generator) -> torch.Tensor:
    """uint8 (T, H, W, 3) -> float (3, T, crop, crop) in [-1, 1]."""
    t, h, w, _ = frames.shape
    size = _random_side(h, w, aug, rng)
    y = rng.integers(0, h - size + 1)
    x = rng.integers(0, w - size + 1)
    x_ = torch.from_numpy(np.array(frames[:, y:y + size, x:x + size])).permute(0, 3, 1, 2).float()
    if size != aug.crop:
        x_ = F.interpolate(x_, size=(aug.crop, aug.crop), mode="bilinear", antialias=True, align_corners=False)
    if aug.flip and rng.random() < 0.5:
        x_ = x_.flip(-1)
    return (x_.permute(1, 0, 2, 3) / 127.5 - 1.0).clamp(-1, 1)


def step_rng(seed: int, step: int, rank: int) -> np.random.Generator:
    return np.random.default_rng([seed, step, rank])


MAX_PAN = 2.0    # synthetic camera speed, output pixels per frame at most
MAX_ZOOM = 1.25  # window side grows or shrinks by at most this factor over a clip


def moving_still(image: np.ndarray, length: int, aug: Augment, rng: np.random.Generator) -> torch.Tensor:
    """uint8 (1, H, W, 3) -> float (3, length, crop, crop) in [-1, 1]: a synthetic camera move over
    a still photo. The square window (`_random_side`, as in `_crop_clip`) pans in a straight line
    at up to MAX_PAN output pixels per frame and zooms by up to MAX_ZOOM over the clip, sampled
    bilinearly (sub-pixel motion) from the photo pre-scaled with antialiasing."""
    _, h, w, _ = image.shape
    side = _random_side(h, w, aug, rng)
    scale = min(1.0, aug.crop / side)   # pre-scale so the window is about crop pixels: no aliasing
    photo = torch.from_numpy(np.array(image[0])).permute(2, 0, 1)[None].float()
    if scale < 1:
        photo = F.interpolate(photo, scale_factor=scale, mode="bilinear", antialias=True, align_corners=False)
    ph, pw = photo.shape[-2:]
    side0 = min(side * scale, ph, pw)
    side1 = min(side0 * np.exp(rng.uniform(-1, 1) * np.log(MAX_ZOOM)), ph, pw)
    sides = np.linspace(side0, side1, length)
    speed = rng.uniform(0, MAX_PAN) * side0 / aug.crop
    angle = rng.uniform(0, 2 * np.pi)
    cy0, cx0 = rng.uniform(side0 / 2, ph - side0 / 2), rng.uniform(side0 / 2, pw - side0 / 2)
    t = np.arange(length)
    cx = np.clip(cx0 + speed * np.cos(angle) * t, sides / 2, pw - sides / 2)
    cy = np.clip(cy0 + speed * np.sin(angle) * t, sides / 2, ph - sides / 2)
    theta = torch.zeros(length, 2, 3)
    theta[:, 0, 0] = torch.from_numpy(sides / pw)
    theta[:, 1, 1] = torch.from_numpy(sides / ph)
    theta[:, 0, 2] = torch.from_numpy(2 * cx / pw - 1)
    theta[:, 1, 2] = torch.from_numpy(2 * cy / ph - 1)
    grid = F.affine_grid(theta, [length, 3, aug.crop, aug.crop], align_corners=False)
    frames = F.grid_sample(photo.expand(length, -1, -1, -1), grid, mode="bilinear", align_corners=False)
    if aug.flip and rng.random() < 0.5:
        frames = frames.flip(-1)
    return (rearrange(frames, "t c h w -> c t h w") / 127.5 - 1.0).clamp(-1, 1)


def sample_clips(cache: FrameCache, length: int, batch: int, aug: Augment, rng: np.random.Generator,
                 still_motion: float = 0.0) -> torch.Tensor:
    """(batch, 3, length, crop, crop): clips of `length` consecutive frames from videos long enough;
    with probability `still_motion` each (when there are image files) a `moving_still` instead."""
    pool = [c for c in cache.videos if len(c.frames) >= length]
    stills = [c for c in cache.clips if len(c.frames) == 1] if still_motion > 0 else []
    if not pool and not stills:
        raise InvalidArgument(f"no training video has {length} frames")
    out = []
    for _ in range(batch):
        if stills and (not pool or rng.random() < still_motion):
            out.append(moving_still(stills[rng.integers(len(stills))].frames, length, aug, rng))
            continue
        clip = pool[rng.integers(len(pool))]
        start = rng.integers(0, len(clip.frames) - length + 1)
        out.append(_crop_clip(clip.frames[start:start + length], aug, rng))
    return torch.stack(out)


def sample_images(cache: FrameCache, batch: int, aug: Augment, rng: np.random.Generator) -> torch.Tensor:
    """(batch, 3, 1, crop, crop): stills, from image files or single random video frames."""
    out = []
    for _ in range(batch):
        clip = cache.clips[rng.integers(len(cache.clips))]
        index = rng.integers(len(clip.frames))
        out.append(_crop_clip(clip.frames[index:index + 1], aug, rng))
    return torch.stack(out)
