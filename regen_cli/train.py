"""`regen train`: one command from a laptop CPU to many GPU nodes (torchrun).

Single process: `regen train --data DIR ...`. Under `torchrun` the same command runs
DistributedDataParallel (NCCL on GPUs, gloo on CPU), or FSDP2 (`--fsdp`) for models too
big for one GPU; every rank draws its own clips from the stateless sampler (data.py).
Each step: AdamW with linear warmup and cosine decay, gradient accumulation, clipping,
an EMA of the weights, bf16 autocast for the DiT (the encoder's Conv3d stays float32:
its bf16 backward gave non-finite gradients on CPU). Checkpoints and validation every
`ckpt_every` steps; metrics appended to `metrics.jsonl`; `--resume` continues exactly.
`model.safetensors` is the latest checkpoint's EMA model; `best-model.safetensors` a copy
of the one with the highest validation PSNR so far (validation can peak before the end).
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import hashlib
import json
import math
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict
from tqdm import tqdm

from models import Magvit2, Model, ModelConfig, Regen, RegenConfig, build_model, count_parameters, preset

from .api import decode, encode
from .atomic import atomic_output
from .checkpoints import load_model
from .data import Augment, FrameCache, find_media, sample_clips, sample_images, step_rng
from .errors import UsageError
from .frames import to_model_range, to_uint8
from .metrics import video_psnr, video_ssim
from .targets import KINDS, TargetSchedule, make_targets, source_length, subsample_targets
from .train_state import BEST_MODEL_FILE, MODEL_FILE, STATE_FILE, load_train_state, save_train_state


@dataclass(frozen=True)
class TrainConfig:
    data: tuple[str, ...] = ()            # folders or files of training videos and images
    val: tuple[str, ...] = ()             # held-out videos, excluded from training
    out: str = "runs/regen"
    ratio: int = 16
    size: str = "small"                   # preset size: tiny, small, paper
    decoder: str = "regen"                # regen, or magvit2 for the baseline
    init: str = ""                        # warm start: model file whose matching tensors are copied
    init_only: str = ""                   # with --init: copy only tensors whose names start with this (e.g. encoder.)
    steps: int = 10000
    batch: int = 8                        # video clips per rank per micro-step
    image_batch: int = 16                 # images per rank in an image micro-step
    image_ratio: float = 0.2              # share of micro-steps that are image batches
    still_motion: float = 0.0             # share of video clips made from still images by a synthetic pan and zoom
    accumulate: int = 1                   # micro-steps per optimiser step
    target_frames: int = 0                # REGEN: frames decoded per clip, a random subset of the targets (0 = all)
    time_limit: float = 0.0               # minutes of training after which to checkpoint and stop (0 = none)
    crop: int = 64                        # training crop side (pixels)
    min_scale: float = 0.5
    cache_dir: str = "~/.cache/regen/frames"
    cache_side: int = 256                 # short side of cached frames
    lr: float = 1e-3
    weight_decay: float = 0.01
    warmup: int = 200
    min_lr_ratio: float = 0.1
    grad_clip: float = 1.0
    ema: float = 0.999
    bf16: bool = True                     # autocast the DiT to bfloat16
    checkpoint_activations: bool = False  # recompute DiT blocks in backward (big models)
    fsdp: bool = False                    # FSDP2 sharding under torchrun
    ckpt_every: int = 250
    val_frames: int = 34                  # frames of each held-out video to validate on
    val_side: int = 128                   # validation frames are centre-cropped squares of this side
    seed: int = 0
    recon_start: float = 1.0
    recon_end: float = 0.5
    ramp_steps: int = 5000
    interp_share: float = 0.5
    interp_max_factor: int = 2            # interpolation targets keep every F-th frame, F in 2, 4, .. up to this
    shared_noise: bool = False            # REGEN: one diffusion noise image per clip for all its frames (models.config)
    workers: int = 2                      # processes that sample the next steps' clips while this one trains (0 = in the loop)

    @property
    def preset(self) -> str:
        return f"{self.decoder}-{self.size}-{self.ratio}x"

    def schedule(self) -> TargetSchedule:
        return TargetSchedule(self.recon_start, self.recon_end, self.ramp_steps, self.interp_share,
                              self.interp_max_factor)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)


class TrainStep(nn.Module):
    """The loss as a module's forward, so DDP/FSDP hooks see it."""

    def __init__(self, model: Model, dit_dtype: torch.dtype | None) -> None:
        super().__init__()
        self.model = model
        self.dit_dtype = dit_dtype

    def forward(self, inputs: torch.Tensor, targets: torch.Tensor, times: torch.Tensor,
                generator: torch.Generator) -> torch.Tensor:
        """inputs (B, 3, T, H, W), targets (B, 3, T', H, W) in [-1, 1], times (B, T') -> scalar loss."""
        if isinstance(self.model, Regen):
            return self.model.loss(inputs, targets, times, generator, self.dit_dtype)
        return self.model.loss(inputs)


@dataclass
class Dist:
    rank: int = 0
    world: int = 1
    device: torch.device = torch.device("cpu")

    @property
    def main(self) -> bool:
        return self.rank == 0


def setup_distributed() -> Dist:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    cuda = torch.cuda.is_available()
    if world == 1:
        return Dist(device=torch.device("cuda" if cuda else "cpu"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if cuda:
        torch.cuda.set_device(local)
    dist.init_process_group("nccl" if cuda else "gloo")
    return Dist(dist.get_rank(), dist.get_world_size(), torch.device(f"cuda:{local}" if cuda else "cpu"))


def warm_start(model: Model, path: str, only: str = "") -> int:
    """Copies every tensor of the model file at `path` whose name and shape match (and whose
    name starts with `only`); returns how many."""
    source = load_model(path).state_dict()
    own = model.state_dict()
    matched = {k: v for k, v in source.items()
               if k.startswith(only) and k in own and own[k].shape == v.shape}
    model.load_state_dict(matched, strict=False)
    return len(matched)


def learning_rate(cfg: TrainConfig, step: int) -> float:
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    progress = (step - cfg.warmup) / max(cfg.steps - cfg.warmup, 1)
    return cfg.lr * (cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0))))


def validation_clips(cfg: TrainConfig, cache: FrameCache) -> list[torch.Tensor]:
    clips = []
    for clip in cache.clips:
        frames = np.array(clip.frames[:cfg.val_frames])
        h, w = frames.shape[1:3]
        side = min(cfg.val_side, h - h % 8, w - w % 8)
        y, x = (h - side) // 2, (w - side) // 2
        clips.append(to_model_range(frames[:, y:y + side, x:x + side]))
    return clips


def validate(model: Model, clips: list[torch.Tensor]) -> dict:
    model.eval()
    psnr, ssim = [], []
    for video in clips:
        out = decode(model, encode(model, video), steps=1, seed=0)
        a, b = to_uint8(out).numpy(), to_uint8(video).numpy()
        psnr.append(video_psnr(a, b))
        ssim.append(video_ssim(a, b))
    return {"val_psnr": float(np.mean(psnr)), "val_ssim": float(np.mean(ssim))}


def _check_clip_lengths(cfg: TrainConfig, cache: FrameCache, schedule: TargetSchedule | None) -> None:
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
            raise UsageError(f"{kind} targets at {cfg.ratio}x need training videos of {needed} frames; the longest "
                             f"has {longest} (add longer videos, change the target mix or --interp-max-factor, "
                             "or use --still-motion with still images)")


def _micro_batch(cfg: TrainConfig, cache: FrameCache, aug: Augment, schedule: TargetSchedule, step: int,
                 rng: np.random.Generator, regen: bool) -> tuple[str, torch.Tensor, torch.Tensor, torch.Tensor]:
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
    """Item i: the micro-batches of optimiser step start + i, each with the seed of its diffusion
    noise. Built from (seed, step, rank) alone, so `--workers` processes can prepare steps ahead
    of the loop and a resumed run sees exactly the data it would have seen."""

    def __init__(self, cfg: TrainConfig, cache: FrameCache, schedule: TargetSchedule, regen: bool,
                 rank: int, start: int) -> None:
        self.cfg, self.cache, self.schedule, self.regen = cfg, cache, schedule, regen
        self.rank, self.start = rank, start
        self.aug = Augment(cfg.crop, cfg.min_scale)

    def __len__(self) -> int:
        return max(self.cfg.steps - self.start, 0)

    def __getitem__(self, index: int) -> list[tuple[str, torch.Tensor, torch.Tensor, torch.Tensor, int]]:
        step = self.start + index
        rng = step_rng(self.cfg.seed, step, self.rank)
        micro = []
        for _ in range(self.cfg.accumulate):
            batch = _micro_batch(self.cfg, self.cache, self.aug, self.schedule, step, rng, self.regen)
            micro.append((*batch, int(rng.integers(1 << 62))))
        return micro


def step_loader(dataset: StepBatches, workers: int, pin: bool) -> torch.utils.data.DataLoader:
    """Steps in order; with workers, each prepares whole steps ahead (one torch thread each)."""
    return torch.utils.data.DataLoader(dataset, batch_size=None, shuffle=False, num_workers=workers,
                                       prefetch_factor=4 if workers else None, pin_memory=pin,
                                       collate_fn=_as_is)


def _as_is(item):
    return item


def model_config(cfg: TrainConfig) -> ModelConfig:
    """The preset's config with the run's model options applied."""
    config = preset(cfg.preset)
    if cfg.shared_noise:
        if not isinstance(config, RegenConfig):
            raise UsageError("--shared-noise is for REGEN decoders (the baseline decoder has no noise)")
        config = dataclasses.replace(config, diffusion=dataclasses.replace(config.diffusion, shared_noise=True))
    return config


def train(cfg: TrainConfig, resume: bool = False, quiet: bool = False) -> dict:
    env = setup_distributed()
    out = Path(cfg.out)
    torch.manual_seed(cfg.seed)
    model = build_model(model_config(cfg))
    if cfg.init:
        copied = warm_start(model, cfg.init, cfg.init_only)
        if env.main and not quiet:
            print(f"warm start: {copied} tensors from {cfg.init}", file=sys.stderr)
    model.to(env.device)
    if isinstance(model, Regen):
        model.dit.checkpoint_blocks = cfg.checkpoint_activations
    ema = copy.deepcopy(model).requires_grad_(False)   # before sharding: FSDP modules cannot be copied
    if cfg.fsdp:
        from torch.distributed.fsdp import fully_shard, register_fsdp_forward_method
        for module in (model, ema):                     # the EMA is sharded exactly like the weights
            if isinstance(module, Regen):
                for block in module.dit.blocks:
                    fully_shard(block)
            fully_shard(module)
        register_fsdp_forward_method(model, "loss")     # training calls loss(), not forward()
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (decay if p.dim() >= 2 else no_decay).append(p)
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr, betas=(0.9, 0.99))
    start = 0
    if resume and (out / STATE_FILE).exists():
        start, _ = load_train_state(out, model, ema, optimizer)
    dit_dtype = torch.bfloat16 if cfg.bf16 else None
    step_module: nn.Module = TrainStep(model, dit_dtype)
    if env.world > 1 and not cfg.fsdp:
        step_module = nn.parallel.DistributedDataParallel(
            step_module, device_ids=[env.device.index] if env.device.type == "cuda" else None)
    val_paths = {Path(v).resolve() for v in find_media([Path(v) for v in cfg.val])}
    train_paths = [p for p in find_media([Path(d) for d in cfg.data]) if p.resolve() not in val_paths]
    cache_dir = Path(cfg.cache_dir).expanduser()
    cache = FrameCache(train_paths, cache_dir, cfg.cache_side)
    val_clips = validation_clips(cfg, FrameCache(sorted(val_paths), cache_dir, cfg.cache_side)) if val_paths else []
    schedule = cfg.schedule()
    _check_clip_lengths(cfg, cache, schedule if isinstance(model, Regen) else None)
    if env.main:
        out.mkdir(parents=True, exist_ok=True)
        (out / "train-config.json").write_text(cfg.to_json() + "\n")
    best_psnr = _best_val_psnr(out / "metrics.jsonl", start) if env.main else float("-inf")
    metrics = open(out / "metrics.jsonl", "a") if env.main else None
    if env.main and not quiet:
        print(f"{cfg.preset}: {count_parameters(model):,} parameters on {env.device} x{env.world}; "
              f"{len(train_paths)} training files ({cache.total_frames} frames), {len(val_clips)} held out",
              file=sys.stderr)
    bar = tqdm(total=cfg.steps, initial=start, unit="step", file=sys.stderr, dynamic_ncols=True,
               disable=quiet or not env.main or not sys.stderr.isatty())
    last: dict = {}
    data_digest = hashlib.sha256()
    batches = iter(step_loader(StepBatches(cfg, cache, schedule, isinstance(model, Regen), env.rank, start),
                               cfg.workers, env.device.type == "cuda"))
    t_start = time.time()
    for step in range(start, cfg.steps):
        t0 = time.time()
        lr = learning_rate(cfg, step)
        for group in optimizer.param_groups:
            group["lr"] = lr
        total, clips = 0.0, 0
        model.train()
        td = time.time()
        micro_batches = next(batches)
        data_time = time.time() - td
        for micro, (kind, inputs, targets, times, noise_seed) in enumerate(micro_batches):
            data_digest.update(inputs[..., :8, :8].numpy().tobytes())
            gen = torch.Generator(env.device).manual_seed(noise_seed)
            sync = micro == cfg.accumulate - 1 or not isinstance(step_module, nn.parallel.DistributedDataParallel)
            ctx = step_module.no_sync() if not sync else contextlib.nullcontext()
            with ctx:
                loss = step_module(inputs.to(env.device, non_blocking=True), targets.to(env.device, non_blocking=True),
                                   times.to(env.device, non_blocking=True), gen)
                (loss / cfg.accumulate).backward()
            total += loss.item() / cfg.accumulate
            clips += inputs.shape[0]
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        if torch.isfinite(grad_norm):
            optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        with torch.no_grad():
            decay = min(cfg.ema, (1 + step) / (10 + step))   # EMA warm-up: early weights fade fast
            for e, p in zip(ema.parameters(), model.parameters()):
                e.lerp_(p.detach(), 1 - decay)
        elapsed = time.time() - t0
        last = {"step": step + 1, "loss": total, "lr": lr, "kind": kind, "grad_norm": float(grad_norm),
                "clips_per_s": clips * env.world / elapsed, "data_s": data_time, "step_s": elapsed,
                "wall_s": time.time() - t_start}
        if metrics:
            metrics.write(json.dumps(last) + "\n")
            metrics.flush()
        bar.set_postfix(loss=f"{total:.4f}", kind=kind[:6])
        bar.update(1)
        out_of_time = _out_of_time(cfg, t_start, env)
        if (step + 1) % cfg.ckpt_every == 0 or step + 1 == cfg.steps or out_of_time:
            save_train_state(out, step + 1, model, ema, optimizer, cfg.to_json(), env.main)
            if env.main and val_clips and not cfg.fsdp:  # FSDP forwards are collective: validate with `regen eval`
                scores = {"step": step + 1, **validate(ema, val_clips)}
                metrics.write(json.dumps(scores) + "\n")
                metrics.flush()
                last.update(scores)
                if scores["val_psnr"] > best_psnr:
                    best_psnr = scores["val_psnr"]
                    with atomic_output(out / BEST_MODEL_FILE, overwrite=True) as tmp:
                        shutil.copyfile(out / MODEL_FILE, tmp)
                if not quiet:
                    bar.write(f"step {step + 1}: val PSNR {scores['val_psnr']:.2f} dB, SSIM {scores['val_ssim']:.4f}")
        if out_of_time:
            break
    del batches   # stops the workers
    bar.close()
    if metrics:
        metrics.close()
    if env.world > 1:
        _write_rank_summary(out, env, model, data_digest.hexdigest())
        dist.destroy_process_group()
    return last


def _best_val_psnr(metrics_path: Path, up_to_step: int) -> float:
    """The best validation PSNR logged at or before `up_to_step` (resuming), -inf if none."""
    if not metrics_path.exists() or up_to_step == 0:
        return float("-inf")
    rows = [json.loads(line) for line in metrics_path.read_text().splitlines() if line.strip()]
    return max((r["val_psnr"] for r in rows if "val_psnr" in r and r["step"] <= up_to_step), default=float("-inf"))


def _out_of_time(cfg: TrainConfig, t_start: float, env: Dist) -> bool:
    """Whether the --time-limit is spent; rank 0's clock decides for every rank."""
    if cfg.time_limit <= 0:
        return False
    flag = torch.tensor([float(time.time() - t_start > cfg.time_limit * 60)], device=env.device)
    if env.world > 1:
        dist.broadcast(flag, src=0)
    return bool(flag.item())


def _write_rank_summary(out: Path, env: Dist, model: Model, data_digest: str) -> None:
    """`rank-R.json`: digests of this rank's weights and of the data it drew, to check that
    replicas stay in sync and ranks see different data."""
    weights = hashlib.sha256()
    state = get_model_state_dict(model, options=StateDictOptions(full_state_dict=True))  # on every rank
    for name in sorted(state):
        weights.update(name.encode())
        weights.update(state[name].float().cpu().numpy().tobytes())
    out.mkdir(parents=True, exist_ok=True)
    (out / f"rank-{env.rank}.json").write_text(json.dumps(
        {"rank": env.rank, "world": env.world, "weights_sha256": weights.hexdigest(), "data_sha256": data_digest}))
