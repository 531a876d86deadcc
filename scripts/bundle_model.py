#!/usr/bin/env python3
"""Bundle a trained model: bf16 weights, a model card (NAME.md) and its numbers (NAME.json).

    python scripts/bundle_model.py RUN_DIR NAME EVAL_JSON [--note TEXT]

RUN_DIR is a `regen train --out` folder (model.safetensors, train-config.json, metrics.jsonl);
EVAL_JSON is the output of `regen eval --json` on clips held out of that training. The card
records the exact training command, data, seed, steps, wall time, hardware and the measured
quality, so every number in it comes from files a run produced.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
from pathlib import Path

import torch
from safetensors import safe_open

from regen_cli import load_model, save_model
from regen_cli.zoo import WEIGHTS


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("run", type=Path)
    parser.add_argument("name")
    parser.add_argument("eval_json", type=Path)
    parser.add_argument("--note", default="")
    args = parser.parse_args()
    config = json.loads((args.run / "train-config.json").read_text())
    rows = [json.loads(line) for line in (args.run / "metrics.jsonl").read_text().splitlines()]
    steps = [r for r in rows if "loss" in r]
    vals = [r for r in rows if "val_psnr" in r]
    report = json.loads(args.eval_json.read_text())
    model = load_model(args.run / "model.safetensors")
    with safe_open(str(args.run / "train-state.safetensors"), framework="pt") as f:
        checkpoint_step = int(f.metadata()["step"])   # the step model.safetensors was saved at
    target = WEIGHTS / f"{args.name}.safetensors"
    WEIGHTS.mkdir(exist_ok=True)
    save_model(model, target, dtype=torch.bfloat16)
    agg = report["aggregate"]
    summary = {"psnr": agg["psnr"], "ssim": agg["ssim"], "bpp": agg["bpp"], "ratio": model.ratio,
               "held_out": [Path(v["video"]).name for v in report["videos"]], "steps": checkpoint_step}
    (WEIGHTS / f"{args.name}.json").write_text(json.dumps(summary, indent=1) + "\n")
    data_flags = " ".join(f"--data {d}" for d in config["data"]) + " " + " ".join(f"--val {v}" for v in config["val"])
    flags = " ".join(f"--{k.replace('_', '-')} {v}" for k, v in sorted(config.items())
                     if k not in ("data", "val") and not isinstance(v, bool) and v != "")
    bools = " ".join(f"--{'' if v else 'no-'}{k.replace('_', '-')}" for k, v in sorted(config.items()) if isinstance(v, bool))
    lines = [
        f"# {args.name}", "",
        f"{'REGEN' if model.config.architecture == 'regen' else 'MAGVIT-v2 baseline'} model, {model.ratio}x temporal compression "
        f"({sum(p.numel() for p in model.parameters()):,} parameters, stored in bf16: "
        f"{target.stat().st_size / 1e6:.1f} MB).", "",
        "## Training", "",
        f"- Command: `regen train {data_flags} {flags} {bools}` (resumed runs continue the same schedule)",
        "- Data: the public dev videos fetched by `scripts/fetch_training_data.py`, minus the held-out clips below.",
        f"- Seed {config['seed']}, {checkpoint_step} steps, {steps[-1]['wall_s'] / 60:.0f} minutes of training wall time "
        f"in the last (resumed) process, on {os.cpu_count()} CPU cores ({platform.processor() or platform.machine()}), no GPU.",
        "- Validation PSNR during training (held-out clips, 128 px centre crops, EMA weights): "
        + ", ".join(f"step {v['step']}: {v['val_psnr']:.2f} dB" for v in vals), "",
        "## Measured quality (`regen eval`, one sampling step, seed 0)", "",
        f"Held-out clips, long side capped at {report['max_side']} px:", "",
        "| clip | frames | size | PSNR (dB) | SSIM | bits/pixel |", "|---|---|---|---|---|---|",
    ]
    for v in report["videos"]:
        lines.append(f"| {Path(v['video']).name} | {v['frames']} | {v['width']}x{v['height']} | {v['psnr']:.2f} | "
                     f"{v['ssim']:.3f} | {v['bpp']:.4f} |")
    lines += [f"| **mean** | | | **{agg['psnr']:.2f}** | **{agg['ssim']:.3f}** | {agg['bpp']:.4f} |", ""]
    if args.note:
        lines += ["## Notes", "", args.note, ""]
    (WEIGHTS / f"{args.name}.md").write_text("\n".join(lines))
    print(f"wrote {target} and its card")


if __name__ == "__main__":
    main()
