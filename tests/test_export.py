"""`regen export` on real clips: shards, index and statistics (checked against numpy), clips
that decode like `regen encode` + `regen decode` of the clip, SIGKILL + re-run, torchrun
with 2 CPU ranks, a bad file, LatentDataset under DataLoader workers, and decoding a
generator's float latents."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from safetensors import safe_open
from safetensors.numpy import load_file

import regen_cli as regen
from regen_cli.cli import cli
from regen_cli.io.checkpoints import weights_sha256
from regen_cli.io.container import RglReader
from regen_cli.io.frames import fit_long_side
from regen_cli.io.video import VideoReader, VideoWriter

from .conftest import tiny_model

DATA = Path(__file__).parent / "data"
CLIPS = ["balle-vp9.avi", "magnet-theora.ogv", "motion-h264.mov", "tree-cinepak.avi"]
ARGS = ["--max-side", 64, "--clip-frames", 10, "--shard-size", 0.004, "-q"]   # a few clips per shard


def run(*args, code=0):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == code, (result.exit_code, result.output, result.stderr)
    return result


def export_cmd(*args):
    return [sys.executable, "-m", "regen_cli", "export", *map(str, args)]


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "tiny-4x.safetensors"
    regen.save_model(tiny_model("regen-tiny-4x", seed=1), path)
    return path


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    """Four real clips in nested folders, a file that is not a video, and a text file beside them."""
    root = tmp_path_factory.mktemp("videos")
    (root / "a" / "b").mkdir(parents=True)
    for i, name in enumerate(CLIPS):
        shutil.copy(DATA / name, root / ("a/b" if i % 2 else "a") / name)
    (root / "a" / "broken.mp4").write_bytes(b"not a video at all" * 50)
    (root / "notes.txt").write_text("not a video, not listed: folders take video extensions only")
    return root


@pytest.fixture(scope="module")
def exported(tmp_path_factory, model, videos):
    out = tmp_path_factory.mktemp("export") / "latents"
    result = run("export", videos, "--out", out, "--model", model, "--json", *ARGS, code=7)
    return out, json.loads(result.stdout)


def index(out):
    return [json.loads(line) for line in (out / "index.jsonl").read_text().splitlines()]


def shard_tensors(out):
    tensors = {}
    for shard in sorted((out / "shards").glob("*.safetensors")):
        tensors.update(load_file(str(shard)))
    return tensors


def test_export_writes_shards_index_and_stats_that_match_numpy(exported, model):
    out, summary = exported
    records = index(out)
    clips = [r for r in records if "error" not in r]
    assert summary["videos"] == 5 and summary["failed"] == 1 and summary["clips"] == len(clips) == 10
    # magnet: 34 frames -> clips of 10, 10, 10, 4; the others: 12 -> 10, 2
    magnet = [(r["start"], r["frames"], r["chunks"]) for r in clips if r["source"].endswith("magnet-theora.ogv")]
    assert magnet == [(0, 10, 2), (10, 10, 2), (20, 10, 2), (30, 4, 1)]
    assert all(max(r["width"], r["height"]) == 64 for r in clips)
    assert summary["shards"] > 2 and len(list((out / "shards").glob("*.safetensors"))) == summary["shards"]

    tensors = shard_tensors(out)
    assert sorted(tensors) == sorted(r["key"] for r in clips)
    for r in clips:
        t = tensors[r["key"]]
        assert t.dtype == np.int8 and t.shape == (r["chunks"], 2, 8, -(-r["height"] // 8), -(-r["width"] // 8))
    with safe_open(str(out / clips[0]["shard"]), framework="np") as f:
        meta = f.metadata()
    assert meta["model"] == model.name and meta["model_sha256"] == weights_sha256(model)

    stats = json.loads((out / "stats.json").read_text())
    assert stats["model_sha256"] == weights_sha256(model) and stats["clips"] == 10
    for p, part in enumerate(("z_c", "z_m")):
        values = np.concatenate([(tensors[r["key"]][:, p].astype(np.float64) / 127).transpose(1, 0, 2, 3)
                                 .reshape(8, -1) for r in clips], axis=1)
        np.testing.assert_allclose(stats[part]["mean"], values.mean(axis=1), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(stats[part]["std"], values.std(axis=1), rtol=1e-10, atol=1e-15)
        assert stats["count_per_channel"] == values.shape[1]


def test_a_bad_file_is_listed_with_its_error_and_the_rest_is_exported(exported, videos, model):
    out, _ = exported
    records = index(out)
    failed = [r for r in records if "error" in r]
    assert len(failed) == 1 and failed[0]["source"].endswith("broken.mp4") and failed[0]["clips"] == 0
    assert "not a video" in failed[0]["error"]
    exported_sources = {Path(r["source"]).name for r in records if "error" not in r}
    assert exported_sources == set(CLIPS)
    # a re-run of the finished export adds nothing and says again, in its last line and exit code
    result = run("export", videos, "--out", out, "--model", model, *ARGS[:-1], code=7)
    assert result.stderr.splitlines()[-1].endswith(f"1 of 5 videos failed (see {out / 'index.jsonl'})")


def _clip_video(source, start, frames, path, fps):
    """The clip's frames, downscaled as the export does, as a lossless video."""
    with VideoReader(source) as reader:
        kept = [fit_long_side(f, 64) for i, f in enumerate(reader.frames()) if start <= i < start + frames]
    with VideoWriter(path, kept[0].shape[1], kept[0].shape[0], fps) as writer:
        for f in kept:
            writer.write(f)


def _frames(path):
    with VideoReader(path) as reader:
        return np.stack(list(reader.frames()))


def test_each_clip_decodes_like_encode_then_decode_of_that_clip(exported, model, tmp_path):
    out, _ = exported
    clips = [r for r in index(out) if "error" not in r]
    tensors = shard_tensors(out)
    raw = regen.LatentDataset(out, normalize=False)
    normed = regen.LatentDataset(out, normalize=True)
    by_key = {r["key"]: i for i, r in enumerate(raw.records)}
    chosen = [clips[0], next(r for r in clips if r["frames"] == 4), next(r for r in clips if r["start"] == 10)]
    for r in chosen:
        clip, rgl, ref = tmp_path / f"{r['key']}.mkv", tmp_path / f"{r['key']}.rgl", tmp_path / f"{r['key']}-ref.mkv"
        _clip_video(r["source"], r["start"], r["frames"], clip, r["fps"])
        run("encode", clip, rgl, "--model", model, "-q")
        run("decode", rgl, ref, "--model", model, "-q")
        with RglReader(rgl) as reader:
            stored = np.stack([reader.read_chunk(c) for c in range(reader.chunk_count)])
        np.testing.assert_array_equal(tensors[r["key"]], stored)        # the same int8 latents

        item = raw[by_key[r["key"]]]
        plain = tmp_path / f"{r['key']}.safetensors"
        raw.save_latents(plain, item["latents"], frames=r["frames"], height=r["height"], width=r["width"],
                         fps=r["fps"])
        run("decode", plain, tmp_path / "plain.mkv", "-y", "--model", model, "-q")
        np.testing.assert_array_equal(_frames(tmp_path / "plain.mkv"), _frames(ref))

        # normalised float latents (a generator's view): de-normalised from the file's stats
        item = normed[by_key[r["key"]]]
        assert abs(float(item["latents"].mean())) < 3
        normal = tmp_path / f"{r['key']}-n.safetensors"
        normed.save_latents(normal, item["latents"], frames=r["frames"], height=r["height"], width=r["width"],
                            fps=r["fps"])
        assert regen.read_latents(normal).stats is not None
        run("decode", normal, tmp_path / "normal.mkv", "-y", "--model", model, "-q")
        diff = np.abs(_frames(tmp_path / "normal.mkv").astype(int) - _frames(ref).astype(int))
        assert diff.max() <= 1 and diff.mean() < 0.01

        # and the Python API on the dataset's float latents
        latents = normed.video_latents(item["latents"], frames=r["frames"], height=r["height"], width=r["width"])
        tiny = regen.load_model(model)
        frames = regen.decode(tiny, latents)
        api = regen.decode(tiny, regen.VideoLatents(*(torch.from_numpy(stored.astype(np.float32) / 127)[:, p]
                                                      for p in (0, 1)), 4, r["frames"], r["height"], r["width"]))
        assert (frames - api).abs().max() < 0.01


def test_sigkill_mid_export_then_rerun_gives_the_same_export(model, tmp_path):
    args = [DATA / "long-1200.mp4", "--model", model, "--clip-frames", 20, "--shard-size", 0.002, "-q"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    assert subprocess.run(export_cmd(*args, "--out", tmp_path / "whole"), env=env).returncode == 0
    cut = tmp_path / "cut"
    proc = subprocess.Popen(export_cmd(*args, "--out", cut), env=env)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None and len(list((cut / "shards").glob("*.safetensors"))) < 4:
        time.sleep(0.02)
    assert proc.poll() is None, "the export ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (cut / "index.jsonl").exists()
    kept = len(list((cut / "shards").glob("*.safetensors")))
    again = subprocess.run(export_cmd(*args, "--out", cut, "--json"), env=env, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    summary = json.loads(again.stdout)
    assert 0 < summary["new_clips"] < summary["clips"] == 60, summary       # it resumed, not restarted
    assert kept >= 4
    for name in ("index.jsonl", "stats.json", "export.json"):
        assert (cut / name).read_bytes() == (tmp_path / "whole" / name).read_bytes(), name
    whole = sorted(p.name for p in (tmp_path / "whole" / "shards").iterdir())
    assert sorted(p.name for p in (cut / "shards").iterdir()) == whole           # no temporary left either
    for name in whole:
        assert (cut / "shards" / name).read_bytes() == (tmp_path / "whole" / "shards" / name).read_bytes(), name
    records = index(cut)
    assert len({r["key"] for r in records}) == len(records) == 60


def test_torchrun_two_cpu_ranks_export_the_same_clips_and_stats(exported, model, videos, tmp_path):
    out, _ = exported
    two = tmp_path / "two"
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                           "-m", "regen_cli", "export", str(videos), "--out", str(two), "--model", str(model),
                           *map(str, ARGS)], capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode != 0    # the broken file: every rank exits 7, which torchrun reports as a failure
    assert json.loads((two / "export.json").read_text())["world"] == 2
    assert {p.name[:5] for p in (two / "shards").glob("*.safetensors")} == {"r0000", "r0001"}
    strip = lambda records: sorted((json.dumps({k: v for k, v in r.items() if k != "shard"}, sort_keys=True)
                                    for r in records))   # noqa: E731
    assert strip(index(two)) == strip(index(out))
    one, both = shard_tensors(out), shard_tensors(two)
    assert sorted(one) == sorted(both)
    for key in one:
        np.testing.assert_array_equal(one[key], both[key])
    stats_one, stats_two = (json.loads((d / "stats.json").read_text()) for d in (out, two))
    assert stats_one == stats_two           # exact: integer sums do not depend on the order


def test_latent_dataset_feeds_a_dataloader_with_two_workers(exported):
    out, _ = exported
    dataset = regen.LatentDataset(out)
    assert len(dataset) == 10 and dataset.failed[0]["source"].endswith("broken.mp4")
    loader = torch.utils.data.DataLoader(dataset, batch_size=None, num_workers=2)
    items = list(loader)
    assert [i["key"] for i in items] == [r["key"] for r in dataset.records]
    for item in items:
        assert item["latents"].dtype == torch.float32 and item["latents"].shape[:3] == (item["chunks"], 2, 8)
    # normalised over the whole export: per part and channel mean 0, std 1
    values = torch.cat([i["latents"].permute(1, 2, 0, 3, 4).reshape(2, 8, -1) for i in items], dim=2).double()
    assert values.mean(dim=2).abs().max() < 1e-4 and (values.std(dim=2, correction=0) - 1).abs().max() < 1e-4

    windows = dataset.windows(2, stride=1)
    # full chunks only: clips of 10 frames have 2 (one window), the short tails none
    assert len(windows) == 6
    batches = list(torch.utils.data.DataLoader(windows, batch_size=1, num_workers=2, shuffle=True,
                                               generator=torch.Generator().manual_seed(0)))
    assert len(batches) == 6 and all(b["latents"].shape[:3] == (1, 2, 2) for b in batches)
    first = windows[0]
    torch.testing.assert_close(first["latents"], dataset[0]["latents"][0:2])
    assert first["frames"] == 10 and first["start"] == dataset.records[0]["start"]


def test_out_of_range_float_latents_are_clamped_with_a_warning(model):
    tiny = regen.load_model(model)
    z = torch.rand(2, 8, 2, 2) * 1.6 - 0.8
    z[0, 0, 0, 0] = 3.0
    wide = regen.VideoLatents(z, z.clone(), 4, 10, 16, 16)
    clamped = regen.VideoLatents(z.clamp(-1, 1), z.clamp(-1, 1), 4, 10, 16, 16)
    with pytest.warns(regen.LatentRangeWarning, match="outside"):
        frames = regen.decode(tiny, wide)
    torch.testing.assert_close(frames, regen.decode(tiny, clamped))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        regen.decode(tiny, clamped)       # in range: no warning
    z[0, 0, 0, 0] = float("nan")
    with pytest.raises(regen.InvalidArgument, match="NaN"):
        regen.decode(tiny, regen.VideoLatents(z, z, 4, 10, 16, 16))


def test_decode_of_a_generator_file_and_its_errors(model, tmp_path):
    bare = tmp_path / "sample.safetensors"
    from safetensors.torch import save_file
    save_file({"latents": torch.randn(2, 2, 8, 3, 4) * 1.5}, str(bare))     # no metadata at all
    result = run("decode", bare, tmp_path / "o.mkv", "--model", model, code=2)
    assert "--fps" in result.stderr
    result = run("decode", bare, tmp_path / "o.mkv", "--fps", 24, code=2)
    assert "--model" in result.stderr
    result = run("decode", bare, tmp_path / "o.mkv", "--model", model, "--fps", 24)
    assert "warning:" in result.stderr and "clamped" in result.stderr
    frames = _frames(tmp_path / "o.mkv")
    assert frames.shape == (10, 24, 32, 3)
    regen.save_latents(tmp_path / "named.safetensors", torch.zeros(1, 2, 8, 3, 4), model="x",
                       model_sha256="0" * 64, fps="30000/1001", frames=3, height=20, width=30)
    run("decode", tmp_path / "named.safetensors", tmp_path / "n.mkv", "--model", model, code=4)
    run("decode", DATA / "format-1.0.rgl", tmp_path / "r.mkv", "--fps", 24, code=2)


def test_export_usage_errors(model, videos, tmp_path):
    result = run("export", videos, "--out", tmp_path / "o", "--model", model, "--clip-frames", 12, code=2)
    assert "multiple of k+1 = 5" in result.stderr and not (tmp_path / "o").exists()
    run("export", tmp_path / "missing", "--out", tmp_path / "o", "--model", model, code=2)
    run("export", DATA / "balle-vp9.avi", "--out", tmp_path / "o", "--model", model, "--max-side", 32, "-q")
    result = run("export", DATA / "balle-vp9.avi", "--out", tmp_path / "o", "--model", model, "--max-side", 48,
                 code=2)
    assert "max_side" in result.stderr and "-y/--overwrite" in result.stderr
    run("export", DATA / "balle-vp9.avi", "--out", tmp_path / "o", "--model", model, "--max-side", 48, "-y", "-q")
    assert regen.LatentDataset(tmp_path / "o")[0]["width"] == 48


def test_sources_from_a_list_file_and_batched_encoding(model, tmp_path):
    listing = tmp_path / "list.txt"
    listing.write_text(f"# clips\n{DATA / 'tree-cinepak.avi'}\n\n{DATA / 'balle-vp9.avi'}\nmissing.mp4\n")
    one, four = tmp_path / "one", tmp_path / "four"
    run("export", listing, "--out", one, "--model", model, "--max-side", 64, "-q", code=7)
    run("export", listing, "--out", four, "--model", model, "--max-side", 64, "--batch", 4, "-q", code=7)
    records = index(one)
    assert [r["source"] for r in records] == sorted([str(DATA / "balle-vp9.avi"), str(DATA / "tree-cinepak.avi"),
                                                     str(tmp_path / "missing.mp4")])   # relative to the list
    assert [Path(r["source"]).name for r in records if "error" in r] == ["missing.mp4"]
    assert "not found" in next(r for r in records if "error" in r)["error"]
    a, b = shard_tensors(one), shard_tensors(four)
    assert sorted(a) == sorted(b)
    for key in a:   # one encoder batch of chunks from both videos: equal up to a rare one-step rounding
        assert np.abs(a[key].astype(int) - b[key].astype(int)).max() <= 1
        assert (a[key] == b[key]).mean() > 0.99
