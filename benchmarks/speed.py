"""Decode and encode speed of several decoders in one process: `python -m benchmarks.bench speed`.

Every decoder gets the same work: one clip of `frames` frames at `side` x `side` pixels
(latents for it, from an encoder or random), the same torch thread count, and rounds that
interleave the decoders (round r times every decoder once), so a load change on the
machine hits all of them alike; the figure is the median over rounds.

- regen-Nx: the bundled models through the Python API's decode (the `regen decode` path:
  tiles, noise, one step, latent extension, bf16 where native) and through the encoder path
  of `regen encode` (`encode_chunks`).
- magvit2-small-Nx: the MAGVIT-v2 baseline at equal decoder parameters (random weights:
  speed does not depend on them).
- ltx-video, wan2.1: diffusers' `AutoencoderKLLTXVideo` and `AutoencoderKLWan` with their
  default configurations and random weights, decoding the latent shape of the same clip
  (optional: `pip install -e ".[bench]"`), in bf16 where regen runs bf16.
A REGEN chunk holds k+1 frames, so a 17-frame clip is 4 chunks at 4x (the last padded), 2 at
8x, 1 at 16x and 1 at 32x (33 frames' latents): frames/s counts the clip's frames.
"""

from __future__ import annotations

import statistics
import time
from typing import Callable

import torch

from models import build_model, preset
from regen_cli import api
from regen_cli.codec.chunks import plan_chunks
from regen_cli.codec.decode import ChunkDecoder
from regen_cli.codec.encode import encode_chunks
from regen_cli.codec.options import DecodeDefaults, DecodeOptions, native_bf16
from regen_cli.io.checkpoints import load_model
from regen_cli.io.zoo import resolve_model

Work = Callable[[], None]


def regen_decode_work(model, frames: int, side: int) -> Work:
    """The Python API's decode of the clip's latents: the `regen decode` path (tiles, noise,
    one step, latent extension at chunk boundaries, the precision rule)."""
    gen = torch.Generator().manual_seed(0)
    latents = api.encode(model, torch.rand(3, frames, side, side, generator=gen) * 2 - 1)
    return lambda: api.decode(model, latents)


def regen_encode_work(model, frames: int, side: int) -> Work:
    gen = torch.Generator().manual_seed(1)
    clips = [torch.rand(3, model.ratio + 1, side, side, generator=gen) * 2 - 1
             for _ in plan_chunks(frames, model.ratio)]
    return lambda: encode_chunks(model, clips)


def peer_decode_work(name: str, frames: int, side: int) -> Work:
    """diffusers VAE decoders with default configs and random weights, in bf16 where regen
    decodes in bf16 (the same precision rule), else float32."""
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
    dtype = torch.bfloat16 if native_bf16(torch.device("cpu")) else torch.float32
    vae = vae.to(dtype)
    z = torch.randn(shape).to(dtype)

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
