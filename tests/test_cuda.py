import pytest
import torch

import regen_cli as regen

pytestmark = pytest.mark.cuda
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


@needs_cuda
def test_cuda_decode_matches_cpu():
    model = regen.build_model("regen-tiny-4x").eval()
    torch.nn.init.normal_(model.dit.head.weight, std=0.02)
    video = torch.rand(3, 5, 32, 48) * 2 - 1
    cpu = regen.decode(model, regen.encode(model, video), seed=2)
    model.cuda()
    gpu = regen.decode(model, regen.encode(model, video), seed=2)
    torch.testing.assert_close(gpu, cpu, rtol=1e-3, atol=2e-3)
