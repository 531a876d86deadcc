import pytest
import torch

from models import EncoderConfig, build_model
from models.encoder import CausalEncoder
from models.layers import sampling_plan


@pytest.mark.parametrize("ratio", [4, 8, 16, 32])
def test_chunk_and_image_shapes_at_odd_size(ratio):
    model = build_model(f"regen-tiny-{ratio}x").eval()
    video = torch.rand(2, 3, ratio + 1, 72, 120) * 2 - 1
    z_c, z_m = model.encode(video)
    assert z_c.shape == z_m.shape == (2, 8, 9, 15)
    assert z_c.abs().max() <= 1 and z_m.abs().max() <= 1
    img_c, img_m = model.encode(video[:, :, :1])
    assert img_c.shape == (2, 8, 9, 15)
    torch.testing.assert_close(img_c, img_m)   # an image's latent stands in for both


@pytest.mark.parametrize("ratio", [4, 8, 16, 32])
def test_content_latent_is_strictly_causal(ratio):
    model = build_model(f"regen-tiny-{ratio}x").eval()
    video = torch.rand(1, 3, ratio + 1, 32, 48) * 2 - 1
    changed = video.clone()
    changed[:, :, 1:] = torch.rand_like(changed[:, :, 1:]) * 2 - 1
    with torch.no_grad():
        z_c, z_m = model.encoder(video)
        z_c2, z_m2 = model.encoder(changed)
    assert torch.equal(z_c, z_c2)
    assert not torch.allclose(z_m, z_m2)   # the motion latent does see frames 1..k
    first_changed = video.clone()
    first_changed[:, :, 0] = 0
    with torch.no_grad():
        assert not torch.allclose(model.encoder(first_changed)[0], z_c)


def test_latents_are_on_the_8bit_grid():
    model = build_model("regen-tiny-4x")
    z_c, z_m = model.encode(torch.rand(1, 3, 5, 16, 16) * 2 - 1)
    for z in (z_c, z_m):
        torch.testing.assert_close(z * 127, torch.round(z * 127), rtol=0, atol=1e-5)


def test_bad_inputs_are_rejected():
    encoder = CausalEncoder(EncoderConfig(ratio=4, base_channels=8, channel_mults=(1, 1, 2, 2)))
    with pytest.raises(ValueError, match="frames"):
        encoder(torch.zeros(1, 3, 4, 16, 16))
    with pytest.raises(ValueError, match="multiples of 8"):
        encoder(torch.zeros(1, 3, 5, 20, 16))
    with pytest.raises(ValueError, match="ratio"):
        EncoderConfig(ratio=6)


def test_sampling_plan_reaches_the_ratio():
    for ratio, stages in [(4, 4), (8, 5), (16, 5), (32, 5)]:
        plan = sampling_plan(ratio, stages)
        time = space = 1
        for t, s in plan:
            time, space = time * t, space * s
        assert (time, space) == (ratio, 8)
