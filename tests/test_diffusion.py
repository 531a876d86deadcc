import torch

from models import DiffusionConfig, RectifiedFlow


def test_one_step_returns_the_denoisers_x0_estimate():
    flow = RectifiedFlow(DiffusionConfig())
    target = torch.rand(2, 3, 4, 4)
    seen = []
    out = flow.sample(lambda x, t: seen.append(t.clone()) or target, torch.randn(2, 3, 4, 4), steps=1)
    torch.testing.assert_close(out, target)
    assert seen[0].tolist() == [1.0, 1.0]


def test_perfect_denoiser_gives_x0_for_any_step_count():
    flow = RectifiedFlow(DiffusionConfig())
    x0 = torch.rand(1, 3, 8, 8)
    noise = torch.randn_like(x0)

    def oracle(x_t, t):   # recovers x0 exactly when x_t lies on the straight path from x0 to noise
        return (x_t - t.view(-1, 1, 1, 1) * noise) / (1 - t.view(-1, 1, 1, 1)).clamp_min(1e-12) \
            if t[0] < 1 else x0

    for steps in (1, 2, 7):
        torch.testing.assert_close(flow.sample(oracle, noise, steps), x0, rtol=1e-4, atol=1e-5)


def test_multistep_sampling_is_deterministic():
    flow = RectifiedFlow(DiffusionConfig())
    weight = torch.randn(3, 3)

    def denoise(x, t):
        return torch.tanh(torch.einsum("ij,bjhw->bihw", weight, x) * (1 + t.view(-1, 1, 1, 1)))

    noise = torch.randn(1, 3, 4, 4, generator=torch.Generator().manual_seed(5))
    a = flow.sample(denoise, noise, steps=4)
    b = flow.sample(denoise, noise.clone(), steps=4)
    assert torch.equal(a, b)


def test_training_times_and_loss():
    flow = RectifiedFlow(DiffusionConfig(terminal_fraction=0.25))
    t = flow.sample_times(4000, torch.Generator().manual_seed(0))
    assert ((t > 0) & (t <= 1)).all()
    assert abs((t == 1).float().mean().item() - 0.25) < 0.03
    x0 = torch.rand(2, 3, 4, 4)
    assert flow.loss(lambda x, t: x0, x0).item() == 0.0
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    assert flow.loss(lambda x, t: x * 0.5, x0, g1).item() == flow.loss(lambda x, t: x * 0.5, x0, g2).item()
