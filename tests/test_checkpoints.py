import json

import pytest
import torch
from safetensors.torch import save_file

import regen_cli as regen
from models import config_from_json, config_to_json, preset, preset_names


@pytest.mark.parametrize("name", ["regen-tiny-16x", "magvit2-tiny-4x"])
def test_save_load_round_trip_gives_identical_outputs(tmp_path, name):
    model = regen.build_model(name).eval()
    for p in model.parameters():
        p.data.normal_(0, 0.05)
    path = tmp_path / "m.safetensors"
    regen.save_model(model, path)
    loaded = regen.load_model(path)
    assert loaded.config == model.config
    video = torch.rand(3, model.ratio + 1, 24, 32) * 2 - 1
    a = regen.decode(model, regen.encode(model, video), seed=1)
    b = regen.decode(loaded, regen.encode(loaded, video), seed=1)
    assert torch.equal(a, b)
    assert len(regen.weights_sha256(path)) == 64


def test_bf16_storage_halves_the_file(tmp_path):
    model = regen.build_model("regen-tiny-4x")
    regen.save_model(model, tmp_path / "f32.safetensors")
    regen.save_model(model, tmp_path / "bf16.safetensors", dtype=torch.bfloat16)
    loaded = regen.load_model(tmp_path / "bf16.safetensors")
    assert next(loaded.parameters()).dtype == torch.float32
    ratio = (tmp_path / "bf16.safetensors").stat().st_size / (tmp_path / "f32.safetensors").stat().st_size
    assert ratio < 0.6


def test_bad_model_files_raise_checkpoint_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        regen.load_model(tmp_path / "missing.safetensors")
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x00" * 100)
    with pytest.raises(regen.CheckpointError):
        regen.load_model(junk)
    foreign = tmp_path / "foreign.safetensors"
    save_file({"w": torch.zeros(2)}, foreign)
    with pytest.raises(regen.CheckpointError, match="not a regen model"):
        regen.load_model(foreign)
    mismatch = tmp_path / "mismatch.safetensors"
    save_file({"w": torch.zeros(2)}, mismatch, metadata={
        "format": "regen-model", "format_version": "1", "config": config_to_json(preset("regen-tiny-4x"))})
    with pytest.raises(regen.CheckpointError, match="do not match"):
        regen.load_model(mismatch)
    newer = tmp_path / "newer.safetensors"
    save_file({"w": torch.zeros(2)}, newer, metadata={"format": "regen-model", "format_version": "9", "config": "{}"})
    with pytest.raises(regen.CheckpointError, match="upgrade"):
        regen.load_model(newer)


def test_every_preset_config_round_trips_through_json():
    for name in preset_names():
        config = preset(name)
        text = config_to_json(config)
        assert config_from_json(text) == config
        assert json.loads(text)["architecture"] in ("regen", "magvit2")
    with pytest.raises(ValueError):
        config_from_json(json.dumps({"architecture": "regen", "bogus": 1}))
