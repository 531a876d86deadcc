import pytest
import torch

from models import build_model, count_parameters
from models.presets import regen_decoder_params

PAPER_DECODER = 24 * 12 * 2048 ** 2     # ~1.2B: 24 blocks of width 2048 with MLP ratio 4


@pytest.mark.parametrize("ratio", [4, 8, 16, 32])
def test_paper_presets_match_the_paper_size(ratio):
    with torch.device("meta"):
        regen = build_model(f"regen-paper-{ratio}x")
        baseline = build_model(f"magvit2-paper-{ratio}x")
    decoder = regen_decoder_params(regen.config)
    encoder = count_parameters(regen.encoder)
    print(f"regen-paper-{ratio}x: encoder {encoder:,} decoder {decoder:,}; "
          f"magvit2 decoder {count_parameters(baseline.decoder):,}")
    assert abs(decoder - PAPER_DECODER) / PAPER_DECODER < 0.10
    assert regen.config.encoder.base_channels == 128
    assert regen.config.encoder.channel_mults == ((1, 2, 4, 6) if ratio == 4 else (1, 2, 4, 6, 6))
    assert abs(count_parameters(baseline.decoder) - decoder) / decoder < 0.05


@pytest.mark.parametrize("ratio", [4, 32])
def test_small_presets_stay_small(ratio):
    with torch.device("meta"):
        model = build_model(f"regen-small-{ratio}x")
    assert count_parameters(model) < 12_000_000


@pytest.mark.parametrize("ratio", [4, 16])
def test_medium_presets_share_the_small_encoder(ratio):
    """The size study warm-starts both sizes' encoders from one small model (--init-only encoder.)."""
    with torch.device("meta"):
        small, medium = build_model(f"regen-small-{ratio}x"), build_model(f"regen-medium-{ratio}x")
    assert {k: v.shape for k, v in small.encoder.state_dict().items()} == \
        {k: v.shape for k, v in medium.encoder.state_dict().items()}
    assert medium.config.dit.width == 384 and medium.config.dit.depth == 6
    assert 2.0 < regen_decoder_params(medium.config) / regen_decoder_params(small.config) < 2.5


def test_unknown_preset_names_are_refused():
    for name in ["regen-huge-4x", "regen-small-6x", "regen-small", "vae-small-4x"]:
        with pytest.raises(KeyError, match="unknown preset"):
            build_model(name)
