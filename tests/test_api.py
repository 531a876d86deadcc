import pytest
import torch

import regen_cli as regen
from regen_cli.codec.chunks import chunk_for_time, plan_chunks

from .conftest import chunk_decoder


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    m = regen.build_model("regen-tiny-4x").eval()
    torch.nn.init.normal_(m.dit.head.weight, std=0.02)   # leave the zero-init start so outputs vary
    return m


def test_encode_decode_shapes_any_size_and_length(model):
    video = torch.rand(3, 12, 70, 118) * 2 - 1        # 12 frames: chunks of 5, 5, 2 (+3 padding)
    latents = regen.encode(model, video)
    assert latents.z_c.shape == (3, 8, 9, 15) and latents.num_frames == 12
    assert [c.frames for c in latents.chunks] == [5, 5, 2]
    out = regen.decode(model, latents)
    assert out.shape == video.shape and out.abs().max() <= 1


def test_one_frame_video_is_an_image_chunk(model):
    latents = regen.encode(model, torch.rand(3, 1, 72, 120) * 2 - 1)
    assert latents.z_c.shape == (1, 8, 9, 15)
    torch.testing.assert_close(latents.z_c, latents.z_m)
    assert regen.decode(model, latents).shape == (3, 1, 72, 120)


def test_fractional_and_outside_times(model):
    video = torch.rand(3, 10, 16, 24) * 2 - 1
    latents = regen.encode(model, video)
    times = torch.tensor([0.5, 3.25, 4.75, 7.5, -2.0, -0.5, 9.0, 11.5, 14.0])
    out = regen.decode(model, latents, times=times, seed=3)
    assert out.shape == (3, 9, 16, 24) and torch.isfinite(out).all()
    whole = regen.decode(model, latents, times=torch.tensor([2.0, 2.5, 3.0]), seed=3)
    assert not torch.allclose(whole[:, 1], whole[:, 0]) and not torch.allclose(whole[:, 1], whole[:, 2])


@pytest.mark.parametrize("steps", [1, 4])
def test_sampling_is_seeded_and_deterministic(model, steps):
    latents = regen.encode(model, torch.rand(3, 5, 16, 16) * 2 - 1)
    a = regen.decode(model, latents, steps=steps, seed=7)
    b = regen.decode(model, latents, steps=steps, seed=7)
    c = regen.decode(model, latents, steps=steps, seed=8)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_temperature_scales_the_sampling_noise(model):
    latents = regen.encode(model, torch.rand(3, 9, 16, 24) * 2 - 1)
    torch.testing.assert_close(regen.decode(model, latents, seed=1, temperature=1.0), regen.decode(model, latents, seed=1))
    # no noise: the seed no longer matters; some noise: it does, and the output moves with the scale
    cold = [regen.decode(model, latents, seed=s, temperature=0.0) for s in (1, 2)]
    torch.testing.assert_close(cold[0], cold[1])
    warm = [regen.decode(model, latents, seed=s, temperature=0.5) for s in (1, 2)]
    assert not torch.allclose(warm[0], warm[1])
    assert not torch.allclose(warm[0], regen.decode(model, latents, seed=1))
    with pytest.raises(ValueError, match="temperature"):
        regen.decode(model, latents, temperature=-0.1)


def test_ratio_mismatch_is_refused(model):
    latents = regen.encode(model, torch.rand(3, 5, 16, 16) * 2 - 1)
    with pytest.raises(ValueError, match="4x"):
        regen.decode(regen.build_model("regen-tiny-8x"), latents)


def test_magvit2_baseline_decodes_whole_frames_only():
    model = regen.build_model("magvit2-tiny-8x").eval()
    video = torch.rand(3, 11, 24, 40) * 2 - 1
    latents = regen.encode(model, video)
    assert regen.decode(model, latents).shape == video.shape
    with pytest.raises(ValueError, match="integer times"):
        regen.decode(model, latents, times=torch.tensor([0.5]))


def test_chunk_plan_and_time_mapping():
    assert plan_chunks(1, 16)[0].is_image
    chunks = plan_chunks(35, 16)
    assert [(c.start, c.frames, c.padding) for c in chunks] == [(0, 17, 0), (17, 17, 0), (34, 1, 16)]
    assert chunk_for_time(-3.0, 4, 2) == (0, -3.0)
    assert chunk_for_time(5.5, 4, 2) == (1, 0.5)
    assert chunk_for_time(4.5, 4, 2) == (0, 4.5)
    assert chunk_for_time(12.0, 4, 2) == (1, 7.0)
    with pytest.raises(ValueError):
        plan_chunks(0, 4)


def test_times_between_chunks_are_decoded_by_both_and_cross_faded(model):
    from regen_cli.codec.timeline import decode_times, plan_times
    plan = plan_times([4.25, 0.0, 4.0, 5.0, -1.0, 11.0, 9.5], 4, 2)
    # 4.25 lies between chunk 0's last frame (4) and chunk 1's first (5): 3/4 from chunk 0 at
    # local 4.25, 1/4 from chunk 1 at local -0.75; outside times go to the nearest chunk
    assert plan == {0: [(4, -1.0, 1.0), (1, 0.0, 1.0), (2, 4.0, 1.0), (0, 4.25, 0.75)],
                    1: [(0, -0.75, 0.25), (3, 0.0, 1.0), (6, 4.5, 1.0), (5, 6.0, 1.0)]}
    latents = regen.encode(model, torch.rand(3, 10, 16, 24) * 2 - 1)
    times = [3.0, 4.0, 4.5, 5.0, 6.0]
    order = [i for i, _ in decode_times(chunk_decoder(model, extension=False), latents, times)]
    assert order == [0, 1, 2, 3, 4]
    out = regen.decode(model, latents, times=torch.tensor(times), extension=False)
    first = chunk_decoder(model, extension=False).decode(0, latents.z_c[0], latents.z_m[0], [3.0, 4.0, 4.5])
    second = chunk_decoder(model, extension=False).decode(1, latents.z_c[1], latents.z_m[1], [-0.5, 0.0, 1.0])
    torch.testing.assert_close(out[:, 2], (0.5 * first[:, 2] + 0.5 * second[:, 0])[:, :16, :24])
    torch.testing.assert_close(out[:, 3], second[:, 1, :16, :24])
