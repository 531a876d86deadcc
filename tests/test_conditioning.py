import torch

from models import ConditioningConfig
from models.conditioning import LatentConditioning


def make(**kw):
    cfg = ConditioningConfig(ratio=4, fourier_bands=2, siren_width=16, siren_depth=2, width=32, **kw)
    module = LatentConditioning(cfg)
    torch.nn.init.normal_(module.modulation.weight, std=0.5)   # leave the identity start
    return module


def test_shapes_and_any_real_times():
    module = make()
    z_c, z_m = torch.rand(2, 8, 3, 5) * 2 - 1, torch.rand(2, 8, 3, 5) * 2 - 1
    times = torch.tensor([[0.0, 0.25, 3.5, -2.0, 9.0, 4.0]] * 2)
    tokens = module(z_c, z_m, times)
    assert tokens.shape == (2, 6 * 3 * 5, 32)
    assert torch.isfinite(tokens).all()


def test_time_continuity_and_dependence_on_motion_latent():
    module = make()
    z_c, z_m = torch.rand(1, 8, 2, 2) * 2 - 1, torch.rand(1, 8, 2, 2) * 2 - 1
    a = module(z_c, z_m, torch.tensor([[1.0]]))
    b = module(z_c, z_m, torch.tensor([[1.001]]))
    c = module(z_c, z_m, torch.tensor([[2.0]]))
    assert (a - b).abs().max() < 0.05 * (a - c).abs().max()
    other = module(z_c, torch.rand(1, 8, 2, 2) * 2 - 1, torch.tensor([[1.0]]))
    assert not torch.allclose(a, other)


def test_first_frame_replacement():
    module = make()
    z_c, z_m = torch.rand(1, 8, 2, 2) * 2 - 1, torch.rand(1, 8, 2, 2) * 2 - 1
    other_c = torch.rand(1, 8, 2, 2) * 2 - 1
    times = torch.tensor([[0.0, 1.0]])
    a = module(z_c, z_m, times).reshape(1, 2, 4, -1)
    b = module(other_c, z_m, times).reshape(1, 2, 4, -1)
    torch.testing.assert_close(a[:, 0], b[:, 0])          # frame 0 ignores z_c
    assert not torch.allclose(a[:, 1], b[:, 1])            # other frames use it
    plain = make(first_frame_replacement=False)
    plain.load_state_dict(module.state_dict())
    c = plain(z_c, z_m, times).reshape(1, 2, 4, -1)
    d = plain(other_c, z_m, times).reshape(1, 2, 4, -1)
    assert not torch.allclose(c[:, 0], d[:, 0])


def test_no_positional_table_tokens_follow_their_cells():
    module = make()
    z_c, z_m = torch.rand(1, 8, 3, 4) * 2 - 1, torch.rand(1, 8, 3, 4) * 2 - 1
    times = torch.tensor([[0.0, 2.5]])
    tokens = module(z_c, z_m, times).reshape(1, 2, 3, 4, -1)
    rolled = module(z_c.roll(1, -1), z_m.roll(1, -1), times).reshape(1, 2, 3, 4, -1)
    torch.testing.assert_close(rolled, tokens.roll(1, 3))
