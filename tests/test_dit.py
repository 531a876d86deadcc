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


def test_pixel_refinement_starts_as_the_identity_and_learns_across_patch_borders():
    """A DiT with the convolutional refinement decodes exactly like the same weights without it
    until training moves the refinement's zero-initialised last convolution; once it has, a
    change inside one patch reaches the next patch's pixels (the linear head alone cannot)."""
    plain = make()
    refined = DiTDecoder(DiTConfig(width=32, depth=2, heads=2, refine_channels=8, refine_features=4))
    missing, unexpected = refined.load_state_dict(plain.state_dict(), strict=False)
    assert not unexpected and all(k.startswith(("refine.", "feature_head.")) for k in missing)
    x, cond, t = torch.randn(1, 3, 2, 16, 16), torch.randn(1, 8, 32), torch.tensor([0.5])
    torch.testing.assert_close(refined(x, t, cond), plain(x, t, cond))
    refined(x, t, cond).square().mean().backward()
    assert refined.refine.conv_out.weight.grad.abs().sum() > 0
    # without transformer blocks every token decodes on its own, so only the refinement can carry
    # a change of one token's input into the next patch
    local = DiTDecoder(DiTConfig(width=32, depth=0, heads=2))
    torch.nn.init.normal_(local.head.weight, std=0.02)
    local_refined = DiTDecoder(DiTConfig(width=32, depth=0, heads=2, refine_channels=8, refine_features=4))
    local_refined.load_state_dict(local.state_dict(), strict=False)
    torch.nn.init.normal_(local_refined.refine.conv_out.weight, std=0.1)
    cond2 = cond.clone()
    cond2[0, 0] += 1.0                      # token 0: frame 0, the top-left 8x8 patch
    with torch.no_grad():
        for dit in (local, local_refined):
            delta = (dit(x, t, cond2) - dit(x, t, cond)).abs()[0, :, 0]
            assert delta[:, :8, :8].sum() > 0
            reaches = bool(delta[:, :8, 8].sum() > 0)     # the first pixel column of the patch to the right
            assert reaches == (dit is local_refined)
