"""Training checkpoints: the usable model file plus the resumable training state, both safetensors.

In the run folder:
- `model.safetensors`: the EMA weights as a regular regen model file (config in metadata),
  what `regen encode --model` and `regen eval` use; `best-model.safetensors`: a copy of
  it from the checkpoint with the best validation PSNR (`loop`).
- `train-state.safetensors`: raw weights (`model.*`), EMA weights (`ema.*`) and optimiser
  tensors (`opt.*`), with the step, the training config and the optimiser's
  hyper-parameters as JSON metadata. Nothing is pickled.
Both are written atomically, the state last, so a run killed at any moment resumes from
the last complete checkpoint.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file
from torch.distributed.checkpoint.state_dict import (StateDictOptions, get_model_state_dict,
                                                     get_optimizer_state_dict, set_model_state_dict,
                                                     set_optimizer_state_dict)

from models import Model

from ..io.atomic import atomic_output
from ..io.checkpoints import save_model

STATE_FILE = "train-state.safetensors"
MODEL_FILE = "model.safetensors"
BEST_MODEL_FILE = "best-model.safetensors"   # the checkpoint with the best validation PSNR
FULL = StateDictOptions(full_state_dict=True, cpu_offload=True)


def save_train_state(folder: Path, step: int, model: Model, ema: Model, optimizer: torch.optim.Optimizer,
                     config_json: str, is_main: bool) -> None:
    """Collective under FSDP (every rank calls it); only the main rank writes."""
    weights = get_model_state_dict(model, options=FULL)
    ema_weights = get_model_state_dict(ema, options=FULL)
    opt = get_optimizer_state_dict(model, optimizer, options=FULL)
    if not is_main:
        return
    tensors: dict = {}
    meta: dict = {}
    for name, value in weights.items():
        tensors[f"model.{name}"] = value.detach().cpu().contiguous()
    for name, value in ema_weights.items():
        tensors[f"ema.{name}"] = value.detach().cpu().contiguous()
    for param, state in opt["state"].items():
        for key, value in state.items():
            if isinstance(value, torch.Tensor):
                tensors[f"opt.{param}|{key}"] = value.detach().cpu().contiguous()
            else:
                meta[f"{param}|{key}"] = value
    metadata = {"format": "regen-train-state", "step": str(step), "train_config": config_json,
                "opt_groups": json.dumps(opt["param_groups"]), "opt_scalars": json.dumps(meta)}
    folder.mkdir(parents=True, exist_ok=True)
    _save_ema_model(folder / MODEL_FILE, ema, ema_weights)
    with atomic_output(folder / STATE_FILE, overwrite=True) as tmp:
        save_file(tensors, str(tmp), metadata=metadata)


def _save_ema_model(path: Path, ema: Model, weights: dict) -> None:
    holder = type(ema)(ema.config)
    holder.load_state_dict(weights)
    save_model(holder, path)


def load_train_state(folder: Path, model: Model, ema: Model, optimizer: torch.optim.Optimizer) -> tuple[int, str]:
    """Restores weights, EMA and optimiser in place; returns (step, training config JSON)."""
    with safe_open(str(folder / STATE_FILE), framework="pt") as f:
        meta = f.metadata()
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    weights = {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}
    ema_weights = {k[len("ema."):]: v for k, v in tensors.items() if k.startswith("ema.")}
    state: dict = {}
    for key, value in tensors.items():
        if key.startswith("opt."):
            param, name = key[len("opt."):].split("|", 1)
            state.setdefault(param, {})[name] = value
    for key, value in json.loads(meta["opt_scalars"]).items():
        param, name = key.split("|", 1)
        state.setdefault(param, {})[name] = value
    set_model_state_dict(model, weights, options=FULL)
    set_model_state_dict(ema, ema_weights, options=FULL)
    set_optimizer_state_dict(model, optimizer, {"state": state, "param_groups": json.loads(meta["opt_groups"])},
                             options=FULL)
    return int(meta["step"]), meta["train_config"]
