"""`train()`: one loop from a laptop CPU to many GPU nodes (torchrun).

Single process: `regen train --data DIR ...`. Under `torchrun` the same command runs
DistributedDataParallel (NCCL on GPUs, gloo on CPU), or FSDP2 (`fsdp`) for models too big
for one GPU; every rank draws its own clips from the stateless sampler (`data`). Each
step: AdamW with linear warmup and cosine decay, gradient accumulation, clipping, an EMA
of the weights, bf16 autocast for the encoder's convolution trunk and the decoder where bf16
is native (the encoder's output layers, the int8 rounding and REGEN's conditioning stay
float32). Checkpoints and validation every `ckpt_every`
steps; metrics appended to `metrics.jsonl`; `resume` continues exactly.
`model.safetensors` is the latest checkpoint's EMA model; `best-model.safetensors` a copy
of the one with the best validation PSNR so far (validation can peak before the end).
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import hashlib
import json
import math
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Optional

import torch
from torch import nn
from tqdm import tqdm

from models import Model, ModelConfig, Regen, RegenConfig, build_model, count_parameters, preset

from ..codec.options import native_bf16
from ..errors import ConfigError
from ..io.atomic import atomic_output
from ..io.checkpoints import load_model
from .batches import StepBatches, check_clip_lengths, step_loader
from .config import TrainConfig
from .data import FrameCache, find_media
from .distributed import Dist, broadcast_flag, setup_distributed, write_rank_summary
from .state import BEST_MODEL_FILE, MODEL_FILE, STATE_FILE, load_train_state, save_train_state
from .validation import validate, validation_clips


class TrainStep(nn.Module):
    """The loss as a module's forward, so DDP/FSDP hooks see it."""

    def __init__(self, model: Model, dtype: torch.dtype | None) -> None:
        super().__init__()
        self.model = model
        self.dtype = dtype

    def forward(self, inputs: torch.Tensor, targets: torch.Tensor, times: torch.Tensor,
                generator: torch.Generator) -> torch.Tensor:
        """inputs (B, 3, T, H, W), targets (B, 3, T', H, W) in [-1, 1], times (B, T') -> scalar loss."""
        if isinstance(self.model, Regen):
            return self.model.loss(inputs, targets, times, generator, self.dtype)
        return self.model.loss(inputs, self.dtype)


@dataclass
class Run:
    """Everything one training process holds."""

    cfg: TrainConfig
    env: Dist
    model: Model
    ema: Model
    optimizer: torch.optim.Optimizer
    step_module: nn.Module
    start: int = 0
    best_psnr: float = float("-inf")
    metrics: Optional[IO[str]] = None
    data_digest: "hashlib._Hash" = field(default_factory=hashlib.sha256)

    @property
    def out(self) -> Path:
        return Path(self.cfg.out)

    def log(self, row: dict) -> None:
        if self.metrics:
            self.metrics.write(json.dumps(row) + "\n")
            self.metrics.flush()


def model_config(cfg: TrainConfig) -> ModelConfig:
    """The preset's config with the run's model options applied."""
    config = preset(cfg.preset)
    if cfg.shared_noise:
        if not isinstance(config, RegenConfig):
            raise ConfigError("shared_noise", "is for REGEN decoders (the baseline decoder has no noise)")
        config = dataclasses.replace(config, diffusion=dataclasses.replace(config.diffusion, shared_noise=True))
    if cfg.refine_channels:
        config = dataclasses.replace(config, dit=dataclasses.replace(config.dit, refine_channels=cfg.refine_channels))
    return config


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
    """Linear warm-up to `lr`, then cosine decay to `lr * min_lr_ratio` at the last step."""
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    progress = (step - cfg.warmup) / max(cfg.steps - cfg.warmup, 1)
    return cfg.lr * (cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0))))


def build_optimizer(model: Model, cfg: TrainConfig) -> torch.optim.Optimizer:
    """AdamW, weight decay on weight matrices only."""
    decay, no_decay = [], []
    for p in model.parameters():
        (decay if p.dim() >= 2 else no_decay).append(p)
    return torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                              {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr, betas=(0.9, 0.99))


def set_up_run(cfg: TrainConfig, resume: bool, quiet: bool) -> Run:
    """Model (warm-started), its EMA, sharding or DDP, the optimiser, and a resumed state."""
    env = setup_distributed()
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
    optimizer = build_optimizer(model, cfg)
    start = 0
    if resume and (Path(cfg.out) / STATE_FILE).exists():
        start, _ = load_train_state(Path(cfg.out), model, ema, optimizer)
    step_module: nn.Module = TrainStep(model, torch.bfloat16 if cfg.bf16 and native_bf16(env.device) else None)
    if env.world > 1 and not cfg.fsdp:
        step_module = nn.parallel.DistributedDataParallel(
            step_module, device_ids=[env.device.index] if env.device.type == "cuda" else None)
    return Run(cfg, env, model, ema, optimizer, step_module, start)


def train_step(run: Run, step: int, micro_batches: list) -> dict:
    """One optimiser step over the step's micro-batches: accumulate, clip, step (skipped on
    a non-finite gradient). Returns its log row."""
    cfg, env = run.cfg, run.env
    lr = learning_rate(cfg, step)
    for group in run.optimizer.param_groups:
        group["lr"] = lr
    run.model.train()
    total, clips, kind = 0.0, 0, ""
    ddp = isinstance(run.step_module, nn.parallel.DistributedDataParallel)
    for micro, (kind, inputs, targets, times, noise_seed) in enumerate(micro_batches):
        run.data_digest.update(inputs[..., :8, :8].numpy().tobytes())
        gen = torch.Generator(env.device).manual_seed(noise_seed)
        sync = micro == cfg.accumulate - 1 or not ddp
        with run.step_module.no_sync() if not sync else contextlib.nullcontext():
            loss = run.step_module(inputs.to(env.device, non_blocking=True), targets.to(env.device, non_blocking=True),
                                   times.to(env.device, non_blocking=True), gen)
            (loss / cfg.accumulate).backward()
        total += loss.item() / cfg.accumulate
        clips += inputs.shape[0]
    grad_norm = torch.nn.utils.clip_grad_norm_(run.model.parameters(), cfg.grad_clip)
    if torch.isfinite(grad_norm):
        run.optimizer.step()
    run.optimizer.zero_grad(set_to_none=True)
    return {"step": step + 1, "loss": total, "lr": lr, "kind": kind, "grad_norm": float(grad_norm), "clips": clips}


@torch.no_grad()
def update_ema(run: Run, step: int) -> None:
    """EMA of the weights, warmed up: early weights fade fast."""
    decay = min(run.cfg.ema, (1 + step) / (10 + step))
    for e, p in zip(run.ema.parameters(), run.model.parameters()):
        e.lerp_(p.detach(), 1 - decay)


def checkpoint_and_validate(run: Run, step: int, val_clips: list[torch.Tensor], bar: tqdm, quiet: bool) -> dict:
    """Saves the checkpoint (collective under FSDP), validates the EMA model on rank 0 and
    copies it to `best-model.safetensors` when it is the best so far. Returns the scores."""
    save_train_state(run.out, step, run.model, run.ema, run.optimizer, run.cfg.to_json(), run.env.main)
    if not (run.env.main and val_clips) or run.cfg.fsdp:   # FSDP forwards are collective: validate with `regen eval`
        return {}
    scores = {"step": step, **validate(run.ema, val_clips)}
    run.log(scores)
    if scores["val_psnr"] > run.best_psnr:
        run.best_psnr = scores["val_psnr"]
        with atomic_output(run.out / BEST_MODEL_FILE, overwrite=True) as tmp:
            shutil.copyfile(run.out / MODEL_FILE, tmp)
    if not quiet:
        bar.write(f"step {step}: val PSNR {scores['val_psnr']:.2f} dB, SSIM {scores['val_ssim']:.4f}")
    return scores


def load_data(cfg: TrainConfig, regen: bool) -> tuple[FrameCache, list[torch.Tensor], int]:
    """The training frame cache (validation files excluded), the validation clips, and the
    number of training files; refuses data too short for the target mix before training."""
    if not cfg.data:
        raise ConfigError("data", "give at least one folder or file of training data")
    val_paths = {Path(v).resolve() for v in find_media([Path(v) for v in cfg.val])}
    train_paths = [p for p in find_media([Path(d) for d in cfg.data]) if p.resolve() not in val_paths]
    cache_dir = Path(cfg.cache_dir).expanduser()
    cache = FrameCache(train_paths, cache_dir, cfg.cache_side)
    val_clips = validation_clips(cfg, FrameCache(sorted(val_paths), cache_dir, cfg.cache_side)) if val_paths else []
    check_clip_lengths(cfg, cache, cfg.schedule() if regen else None)
    return cache, val_clips, len(train_paths)


def train(cfg: TrainConfig, resume: bool = False, quiet: bool = False) -> dict:
    """Trains (or resumes) the run in `cfg.out`; returns the last step's log row."""
    cache, val_clips, files = load_data(cfg, cfg.decoder == "regen")
    run = set_up_run(cfg, resume, quiet)
    env = run.env
    if env.main:
        run.out.mkdir(parents=True, exist_ok=True)
        (run.out / "train-config.json").write_text(cfg.to_json() + "\n")
        run.best_psnr = _best_val_psnr(run.out / "metrics.jsonl", run.start)
        run.metrics = open(run.out / "metrics.jsonl", "a")
        if not quiet:
            print(f"{cfg.preset}: {count_parameters(run.model):,} parameters on {env.device} x{env.world}; "
                  f"{files} training files ({cache.total_frames} frames), {len(val_clips)} validation clips",
                  file=sys.stderr)
            if cfg.bf16 and not native_bf16(env.device):
                print("bf16: off, this CPU has no native bfloat16 (AVX512-BF16 or AMX); training in fp32",
                      file=sys.stderr)
    bar = tqdm(total=cfg.steps, initial=run.start, unit="step", file=sys.stderr, dynamic_ncols=True,
               disable=quiet or not env.main or not sys.stderr.isatty())
    batches = iter(step_loader(StepBatches(cfg, cache, cfg.schedule(), isinstance(run.model, Regen), env.rank,
                                           run.start), cfg.workers, env.device.type == "cuda"))
    last: dict = {}
    t_start = time.time()
    for step in range(run.start, cfg.steps):
        t0 = time.time()
        micro_batches = next(batches)
        data_time = time.time() - t0
        last = train_step(run, step, micro_batches)
        update_ema(run, step)
        elapsed = time.time() - t0
        clips = last.pop("clips")
        last.update({"clips_per_s": clips * env.world / elapsed, "data_s": data_time, "step_s": elapsed,
                     "wall_s": time.time() - t_start})
        run.log(last)
        bar.set_postfix(loss=f"{last['loss']:.4f}", kind=last["kind"][:6])
        bar.update(1)
        out_of_time = cfg.time_limit > 0 and broadcast_flag(time.time() - t_start > cfg.time_limit * 60, env)
        if (step + 1) % cfg.ckpt_every == 0 or step + 1 == cfg.steps or out_of_time:
            last.update(checkpoint_and_validate(run, step + 1, val_clips, bar, quiet))
        if out_of_time:
            break
    del batches   # stops the workers
    bar.close()
    if run.metrics:
        run.metrics.close()
    if env.world > 1:
        import torch.distributed as dist
        write_rank_summary(run.out, env, run.model, run.data_digest.hexdigest())
        dist.destroy_process_group()
    return last


def _best_val_psnr(metrics_path: Path, up_to_step: int) -> float:
    """The best validation PSNR logged at or before `up_to_step` (resuming), -inf if none."""
    if not metrics_path.exists() or up_to_step == 0:
        return float("-inf")
    rows = [json.loads(line) for line in metrics_path.read_text().splitlines() if line.strip()]
    return max((r["val_psnr"] for r in rows if "val_psnr" in r and r["step"] <= up_to_step), default=float("-inf"))
