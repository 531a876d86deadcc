import torch

from models import DiTConfig
from models.dit import DiTDecoder


def make():
    dit = DiTDecoder(DiTConfig(width=32, depth=2, heads=2))
    torch.nn.init.normal_(dit.head.weight, std=0.02)   # leave the zero-init start
    return dit


def test_any_size_and_frame_count():
    dit = make()
    for frames, h, w in [(1, 8, 8), (5, 72, 120), (3, 16, 40)]:
        x = torch.randn(2, 3, frames, h, w)
        cond = torch.randn(2, frames * (h // 8) * (w // 8), 32)
        assert dit(x, torch.rand(2), cond).shape == x.shape


def test_no_positional_table_output_is_equivariant_to_patch_shifts():
    dit = make()
    x = torch.randn(1, 3, 2, 24, 32)
    cond = torch.randn(1, 2, 3, 4, 32)
    t = torch.tensor([0.7])
    out = dit(x, t, cond.reshape(1, -1, 32))
    shifted = dit(x.roll(8, -1), t, cond.roll(1, 3).reshape(1, -1, 32))
    torch.testing.assert_close(shifted, out.roll(8, -1), rtol=1e-4, atol=1e-5)


def test_diffusion_time_changes_the_output():
    dit = make()
    x, cond = torch.randn(1, 3, 1, 16, 16), torch.randn(1, 4, 32)
    assert not torch.allclose(dit(x, torch.tensor([0.1]), cond), dit(x, torch.tensor([0.9]), cond))
