"""Shared diffusion noise (models.config.DiffusionConfig.shared_noise): training draws one noise
image per clip for all its frames, and decoding samples the same way for such a model, while
models trained with per-frame noise keep per-frame noise."""

import dataclasses
import subprocess
import sys
from pathlib import Path

import torch

from models import DiffusionConfig, RectifiedFlow, build_model, preset
from regen_cli import load_model, save_model
from regen_cli.train.config import TrainConfig
from regen_cli.train.loop import model_config

from .conftest import chunk_decoder

DATA = Path(__file__).parent / "data"


def test_training_noise_is_one_draw_per_clip_only_when_shared():
    x0 = torch.rand(2, 3, 5, 4, 4) * 2 - 1
    for shared in (True, False):
        flow = RectifiedFlow(DiffusionConfig(terminal_fraction=1.0, shared_noise=shared))   # t = 1: x_t is the noise
        seen = []
        flow.loss(lambda x, t: seen.append(x.clone()) or x, x0, torch.Generator().manual_seed(0))
        noise = seen[0]
        same = all(torch.equal(noise[:, :, 0], noise[:, :, j]) for j in range(1, 5))
        assert same == shared
        assert not torch.equal(noise[0], noise[1])   # clips still get their own draws


def test_decoder_samples_as_the_model_was_trained(monkeypatch):
    base = preset("regen-tiny-4x")
    for shared in (True, False):
        config = dataclasses.replace(base, diffusion=dataclasses.replace(base.diffusion, shared_noise=shared))
        model = build_model(config).eval()
        seen = []
        decode = model.decode
        monkeypatch.setattr(model, "decode", lambda *a, **k: seen.append(a[3].clone()) or decode(*a, **k))
        z = torch.randn(8, 4, 4)
        frames = chunk_decoder(model, extension=False).decode(0, z, z, [0.0, 1.0, 2.5, 4.0])
        assert frames.shape == (3, 4, 32, 32)
        noise = seen[0][0]
        assert all(torch.equal(noise[:, 0], noise[:, j]) for j in range(1, 4)) == shared


def test_trainer_option_sets_the_saved_config(tmp_path):
    config = model_config(TrainConfig(size="tiny", ratio=4, shared_noise=True))
    assert config.diffusion.shared_noise and not model_config(TrainConfig(size="tiny", ratio=4)).diffusion.shared_noise
    save_model(build_model(config), tmp_path / "m.safetensors")
    assert load_model(tmp_path / "m.safetensors").config.diffusion.shared_noise
    proc = subprocess.run([sys.executable, "-m", "regen_cli", "train", "--data", DATA / "realshort.mp4",
                           "--decoder", "magvit2", "--shared-noise", "--out", tmp_path / "run", "--steps", "1", "-q"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "--shared-noise" in proc.stderr
    assert not (tmp_path / "run").exists()
