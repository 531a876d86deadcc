"""Latent extension with context frames: per-frame diffusion times, the training objective,
the sampler, the training batches and the chunk decoder."""

import dataclasses
from types import SimpleNamespace

import numpy as np
import torch

from models import DiffusionConfig, DiTConfig, RectifiedFlow, build_model, preset
from models.dit import DiTDecoder
from regen_cli.codec.decode import ChunkDecoder
from regen_cli.codec.options import DecodeDefaults, DecodeOptions
from regen_cli.train.batches import micro_batch
from regen_cli.train.config import TrainConfig
from regen_cli.train.data import Augment, Clip
from regen_cli.train.loop import model_config


def test_per_frame_times_equal_to_the_clip_time_give_the_clip_output_and_differ_otherwise():
    dit = DiTDecoder(DiTConfig(width=32, depth=2, heads=2))
    torch.nn.init.normal_(dit.head.weight, std=0.02)
    x, cond = torch.randn(2, 3, 3, 16, 24), torch.randn(2, 3 * 2 * 3, 32)
    t = torch.tensor([0.3, 0.8])
    torch.testing.assert_close(dit(x, t[:, None].expand(-1, 3), cond), dit(x, t, cond))
    per_frame = dit(x, torch.tensor([[0.0, 0.3, 0.3], [0.0, 0.8, 0.8]]), cond)
    assert not torch.allclose(per_frame, dit(x, t, cond))


def test_context_loss_gives_context_frames_nearly_clean_and_supervises_only_the_others():
    flow = RectifiedFlow(DiffusionConfig())
    x0 = torch.rand(4, 3, 5, 8, 8) * 2 - 1
    seen = {}

    def denoise(x_t, t):
        seen["x_t"], seen["t"] = x_t.clone(), t.clone()
        out = x0.clone()
        out[:, :, 0] = 5.0                      # wrong on the context frame: must not count
        return out

    assert flow.loss(denoise, x0, torch.Generator().manual_seed(0), context=1, context_noise=0.0).item() == 0.0
    assert seen["t"].shape == (4, 5) and (seen["t"][:, 0] == 0).all()
    torch.testing.assert_close(seen["x_t"][:, :, 0], x0[:, :, 0])
    assert (seen["t"][:, 1:] == seen["t"][:, 1:2]).all() and (seen["t"][:, 1] > 0).all()
    flow.loss(denoise, x0, torch.Generator().manual_seed(0), context=1, context_noise=0.2)
    assert ((seen["t"][:, 0] >= 0) & (seen["t"][:, 0] <= 0.2)).all() and (seen["t"][:, 0] > 0).any()


def test_sampling_with_context_gives_it_clean_at_time_zero_and_returns_only_the_sampled_frames():
    context = torch.rand(1, 3, 1, 8, 8)
    calls = []

    def denoise(x, t):
        calls.append((x.clone(), t.clone()))
        return torch.zeros_like(x)

    out = RectifiedFlow.sample(denoise, torch.randn(1, 3, 4, 8, 8), steps=2, context=context)
    assert out.shape == (1, 3, 4, 8, 8) and len(calls) == 2
    for x, t in calls:
        assert x.shape[2] == 5 and torch.equal(x[:, :, :1], context)
        assert t[0, 0] == 0 and (t[0, 1:] == t[0, 1]).all()
    assert calls[0][1][0, 1] == 1.0 and calls[1][1][0, 1] == 0.5


def test_context_batches_carry_the_frame_before_the_chunk_at_time_minus_one():
    frames = np.arange(40, dtype=np.uint8)[:, None, None, None].repeat(32, 1).repeat(32, 2).repeat(3, 3) * 6
    cache = SimpleNamespace(clips=[Clip(frames, "ramp.mp4")], videos=[Clip(frames, "ramp.mp4")])
    cfg = TrainConfig(data=("x",), ratio=4, batch=2, crop=32, image_ratio=0.0, recon_start=1.0, recon_end=1.0,
                      target_frames=3, context_share=1.0)
    kind, inputs, targets, times, context = micro_batch(cfg, cache, Augment(32, flip=False), cfg.schedule(), 0,
                                                        np.random.default_rng(0), regen=True)
    assert kind == "context" and context == 1
    assert inputs.shape[2] == 5 and targets.shape[2] == 4 and times.shape == (2, 4)
    assert times[0, 0] == -1 and times[0, 1] == 0                 # the chunk's first frame is always supervised
    step = inputs[:, 0, 1, 0, 0] - inputs[:, 0, 0, 0, 0]         # the ramp's change per frame
    torch.testing.assert_close(targets[:, 0, 0, 0, 0], inputs[:, 0, 0, 0, 0] - step)
    plain = dataclasses.replace(cfg, context_share=0.0)
    kind, *_, context = micro_batch(plain, cache, Augment(32, flip=False), plain.schedule(), 0,
                                    np.random.default_rng(0), regen=True)
    assert kind == "reconstruction" and context == 0
    assert model_config(cfg).diffusion.context_frames and not model_config(plain).diffusion.context_frames


def test_chunk_decoder_gives_a_context_model_the_previous_chunks_last_frame_in_one_step():
    config = preset("regen-tiny-4x")
    model = build_model(dataclasses.replace(config, diffusion=dataclasses.replace(config.diffusion,
                                                                                    context_frames=True))).eval()
    calls = []
    decode = model.decode
    model.decode = lambda *a: calls.append(a) or decode(*a)
    decoder = ChunkDecoder(model, DecodeOptions().resolve(DecodeDefaults()))
    z = torch.rand(8, 2, 2) * 2 - 1
    times = [float(t) for t in range(5)]
    first = decoder.decode(0, z, z, times)
    decoder.decode(1, z, z, times)
    steps, context, context_times = calls[1][4], calls[1][5], calls[1][6]
    assert calls[0][5] is None and steps == 1
    torch.testing.assert_close(context[0, :, 0], first[:, -1])
    assert context_times.tolist() == [[-1.0]]
