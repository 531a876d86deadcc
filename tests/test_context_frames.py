"""Latent extension with a context frame: the DiT's context input, the training objective,
the training batches and the chunk decoder."""

import dataclasses
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from models import DiTConfig, build_model, preset
from models.dit import DiTDecoder
from regen_cli.codec.decode import ChunkDecoder
from regen_cli.codec.options import DecodeDefaults, DecodeOptions
from regen_cli.train.batches import micro_batch
from regen_cli.train.config import TrainConfig
from regen_cli.train.data import Augment, Clip
from regen_cli.train.loop import model_config


def test_context_input_starts_as_a_no_op_and_reaches_every_frame_once_trained():
    dit = DiTDecoder(DiTConfig(width=32, depth=2, heads=2, context=True))
    torch.nn.init.normal_(dit.head.weight, std=0.02)
    x, cond, t = torch.randn(2, 3, 3, 16, 24), torch.randn(2, 3 * 2 * 3, 32), torch.tensor([1.0, 1.0])
    known = torch.rand(2, 3, 16, 24) * 2 - 1
    torch.testing.assert_close(dit(x, t, cond, known), dit(x, t, cond))      # zero-initialised
    torch.nn.init.normal_(dit.context_embed.weight, std=0.1)
    changed = (dit(x, t, cond, known) - dit(x, t, cond)).abs().amax(dim=(0, 1, 3, 4))
    assert (changed > 1e-4).all()                                             # every frame sees it
    with pytest.raises(ValueError, match="context"):
        DiTDecoder(DiTConfig(width=32, depth=2, heads=2))(x, t, cond, known)


def test_context_loss_degrades_the_known_frame_and_learns_from_it():
    model = build_model(dataclasses.replace(preset("regen-tiny-4x"), dit=dataclasses.replace(
        preset("regen-tiny-4x").dit, context=True)))
    video = torch.rand(2, 3, 5, 16, 16) * 2 - 1
    known = torch.rand(2, 3, 16, 16) * 2 - 1
    times = torch.arange(5.0).expand(2, -1)
    seen = []
    dit_forward = model.dit.forward
    model.dit.forward = lambda x, t, cond, context=None: seen.append(context) or dit_forward(x, t, cond, context)
    model.loss(video, video, times, torch.Generator().manual_seed(0), context=known, context_noise=0.0)
    torch.testing.assert_close(seen[-1], known)
    model.loss(video, video, times, torch.Generator().manual_seed(0), context=known, context_noise=0.5)
    assert 0 < (seen[-1] - known).abs().mean() < 1
    model.dit.forward = dit_forward
    torch.nn.init.normal_(model.dit.head.weight, std=0.02)                    # leave the zero-init start
    loss = model.loss(video, video, times, torch.Generator().manual_seed(0), context=known)
    loss.backward()
    assert model.dit.context_embed.weight.grad.abs().sum() > 0                # the zero-init path learns


def test_context_batches_carry_the_frame_before_the_chunk_at_time_minus_one():
    frames = np.arange(40, dtype=np.uint8)[:, None, None, None].repeat(32, 1).repeat(32, 2).repeat(3, 3) * 6
    cache = SimpleNamespace(clips=[Clip(frames, "ramp.mp4")], videos=[Clip(frames, "ramp.mp4")])
    cfg = TrainConfig(data=("x",), ratio=4, batch=2, crop=32, image_ratio=0.0, recon_start=1.0, recon_end=1.0,
                      target_frames=3, context_share=1.0)
    kind, inputs, targets, times, context = micro_batch(cfg, cache, Augment(32, flip=False), cfg.schedule(), 0,
                                                        np.random.default_rng(0), regen=True)
    assert kind == "context" and context.shape == (2, 3, 32, 32)
    assert inputs.shape[2] == 5 and targets.shape[2] == 3 and times.shape == (2, 3)
    assert times[0, 0] == 0                                       # the chunk's first frame is always supervised
    step = inputs[:, 0, 1, 0, 0] - inputs[:, 0, 0, 0, 0]         # the ramp's change per frame
    torch.testing.assert_close(context[:, 0, 0, 0], inputs[:, 0, 0, 0, 0] - step)
    plain = dataclasses.replace(cfg, context_share=0.0)
    kind, *_, context = micro_batch(plain, cache, Augment(32, flip=False), plain.schedule(), 0,
                                    np.random.default_rng(0), regen=True)
    assert kind == "reconstruction" and context is None
    assert model_config(cfg).dit.context and not model_config(plain).dit.context


def test_chunk_decoder_gives_a_context_model_the_previous_chunks_last_frame_in_one_step():
    config = preset("regen-tiny-4x")
    model = build_model(dataclasses.replace(config, dit=dataclasses.replace(config.dit, context=True))).eval()
    calls = []
    decode = model.decode
    model.decode = lambda *a: calls.append(a) or decode(*a)
    decoder = ChunkDecoder(model, DecodeOptions().resolve(DecodeDefaults()))
    z = torch.rand(8, 2, 2) * 2 - 1
    times = [float(t) for t in range(5)]
    first = decoder.decode(0, z, z, times)
    decoder.decode(1, z, z, times)
    steps, context = calls[1][4], calls[1][5]
    assert calls[0][5] is None and steps == 1
    torch.testing.assert_close(context[0], first[:, -1])
