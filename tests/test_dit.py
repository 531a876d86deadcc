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


def test_attention_equals_attention_on_rms_normed_queries_and_keys():
    """The folded q/k normalisation (both weights on q, scale 1) is RMSNorm attention exactly,
    in values and in gradients."""
    import torch.nn.functional as F
    from einops import rearrange
    from models.dit import Attention

    torch.manual_seed(0)
    attn = Attention(64, 4)
    for norm in (attn.q_norm, attn.k_norm):
        torch.nn.init.uniform_(norm.weight, 0.5, 1.5)
    x = torch.randn(2, 10, 64, requires_grad=True)

    def reference(x):
        q, k, v = rearrange(attn.qkv(x), "b n (three h d) -> three b h n d", three=3, h=4)
        q = F.rms_norm(q, (16,), attn.q_norm.weight)
        k = F.rms_norm(k, (16,), attn.k_norm.weight)
        return attn.out(rearrange(F.scaled_dot_product_attention(q, k, v), "b h n d -> b n (h d)"))

    ours, ref = attn(x), reference(x)
    torch.testing.assert_close(ours, ref, rtol=1e-5, atol=1e-6)
    g_ours = torch.autograd.grad(ours.square().sum(), [x, attn.q_norm.weight, attn.k_norm.weight])
    g_ref = torch.autograd.grad(ref.square().sum(), [x, attn.q_norm.weight, attn.k_norm.weight])
    for a, b in zip(g_ours, g_ref):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
