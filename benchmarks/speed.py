"""Decode and encode speed of several decoders in one process: `python -m benchmarks.bench speed`.

Every decoder gets the same work: one clip of `frames` frames at `side` x `side` pixels
(latents for it, from an encoder or random), the same torch thread count, and rounds that
interleave the decoders (round r times every decoder once), so a load change on the
machine hits all of them alike; the figure is the median over rounds.

- regen-Nx: the bundled models through `ChunkDecoder` (the `regen decode` path: tiles,
  noise, one step, extension as the file would have it) and through the encoder path of
  `regen encode` (`encode_chunks`).
- magvit2-small-Nx: the MAGVIT-v2 baseline at equal decoder parameters (random weights:
  speed does not depend on them).
- ltx-video, wan2.1: diffusers' `AutoencoderKLLTXVideo` and `AutoencoderKLWan` with their
  default configurations and random weights, decoding the latent shape of the same clip
  (optional: `pip install -e ".[bench]"`).
A REGEN chunk holds k+1 frames, so a 17-frame clip is 4 chunks at 4x (20 frames decoded,
17 kept), 2 at 8x, 1 at 16x and 1 at 32x (33 decoded): frames/s counts the clip's frames.
"""

from __future__ import annotations

import statistics
import time
from typing import Callable

import torch

from models import build_model, preset
from regen_cli.codec.chunks import plan_chunks
from regen_cli.codec.decode import ChunkDecoder
from regen_cli.codec.encode import encode_chunks
from regen_cli.codec.options import DecodeDefaults, DecodeOptions
from regen_cli.io.checkpoints import load_model
from regen_cli.io.zoo import resolve_model

Work = Callable[[], None]


def _latents(model, frames: int, side: int, seed: int = 0) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Latents of a random clip through the model's own encoder (int8 grid), per chunk."""
    gen = torch.Generator().manual_seed(seed)
    clip = torch.rand(3, frames, side, side, generator=gen) * 2 - 1
    chunks = []
    for c in plan_chunks(frames, model.ratio):
        x = clip[:, c.start:c.start + c.frames]
        x = torch.cat([x, x[:, -1:].expand(-1, c.padding, -1, -1)], dim=1)
        chunks.append(x)
    return encode_chunks(model, chunks)


def regen_decode_work(model, frames: int, side: int, extension: bool = True) -> Work:
    latents = _latents(model, frames, side)
    options = DecodeOptions(extension=extension).resolve(DecodeDefaults())
    times = [float(t) for t in range(model.ratio + 1)]

    def run() -> None:
        decoder = ChunkDecoder(model, options)
        for index, (z_c, z_m) in enumerate(latents):
            decoder.decode(index, z_c, z_m, times)
    return run


def regen_encode_work(model, frames: int, side: int) -> Work:
    gen = torch.Generator().manual_seed(1)
    clips = [torch.rand(3, model.ratio + 1, side, side, generator=gen) * 2 - 1
             for _ in plan_chunks(frames, model.ratio)]
    return lambda: encode_chunks(model, clips)


def peer_decode_work(name: str, frames: int, side: int) -> Work:
    """diffusers VAE decoders with default configs and random weights."""
    import diffusers
    torch.manual_seed(0)
    if name == "ltx-video":
        vae = diffusers.AutoencoderKLLTXVideo().eval()
        shape = (1, vae.config.latent_channels, 1 + (frames - 1) // 8, side // 32, side // 32)
    elif name == "wan2.1":
        vae = diffusers.AutoencoderKLWan().eval()
        shape = (1, vae.config.z_dim, 1 + (frames - 1) // 4, side // 8, side // 8)
    else:
        raise ValueError(f"unknown peer {name!r}")
    z = torch.randn(shape)

    def run() -> None:
        with torch.inference_mode():
            vae.decode(z)
    return run


def interleaved(works: dict[str, Work], rounds: int, warmup: int = 1) -> dict[str, float]:
    """Median seconds per call of each work, over `rounds` rounds that each run every work once."""
    for work in works.values():
        for _ in range(warmup):
            work()
    seconds: dict[str, list[float]] = {name: [] for name in works}
    for _ in range(rounds):
        for name, work in works.items():
            t0 = time.perf_counter()
            work()
            seconds[name].append(time.perf_counter() - t0)
    return {name: statistics.median(s) for name, s in seconds.items()}


def build_works(ratios: list[int], frames: int, side: int, peers: list[str], hd: bool,
                encode: bool) -> tuple[dict[str, Work], dict[str, int]]:
    """The decoders (and encoders) to time, and the frames each call produces."""
    works: dict[str, Work] = {}
    produced: dict[str, int] = {}
    for k in ratios:
        model = load_model(resolve_model(f"regen-{k}x").path)
        works[f"regen-{k}x decode"] = regen_decode_work(model, frames, side)
        produced[f"regen-{k}x decode"] = frames
        if encode:
            works[f"regen-{k}x encode"] = regen_encode_work(model, frames, side)
            produced[f"regen-{k}x encode"] = frames
        baseline = build_model(preset(f"magvit2-small-{k}x")).eval()
        works[f"magvit2-small-{k}x decode"] = regen_decode_work(baseline, frames, side)
        produced[f"magvit2-small-{k}x decode"] = frames
    if hd:
        model = load_model(resolve_model("regen-16x").path)
        chunk = model.ratio + 1
        works["regen-16x decode 1280x720"] = _hd_work(model, chunk)
        produced["regen-16x decode 1280x720"] = chunk
    for name in peers:
        works[f"{name} decode"] = peer_decode_work(name, frames, side)
        produced[f"{name} decode"] = frames
    return works, produced


def _hd_work(model, frames: int) -> Work:
    gen = torch.Generator().manual_seed(2)
    clip = torch.rand(3, frames, 720, 1280, generator=gen) * 2 - 1
    (z_c, z_m), = encode_chunks(model, [clip])
    options = DecodeOptions().resolve(DecodeDefaults())
    times = [float(t) for t in range(model.ratio + 1)]
    return lambda: ChunkDecoder(model, options).decode(0, z_c, z_m, times)


def report(seconds: dict[str, float], produced: dict[str, int], reference: str | None) -> list[dict]:
    rows = []
    ref_fps = produced[reference] / seconds[reference] if reference in seconds else None
    for name, s in seconds.items():
        fps = produced[name] / s
        rows.append({"work": name, "seconds": round(s, 3), "frames_per_s": round(fps, 2),
                     "vs_reference": round(fps / ref_fps, 2) if ref_fps else None})
    return rows
