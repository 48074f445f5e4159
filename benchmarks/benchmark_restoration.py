"""Restoration inference on this machine: the Restorer's latency at 512 x 512 and on a 2048 x 1536 photo (tiled),
PyTorch vs ONNX Runtime, the peak memory of a 4000 x 3000 photo in tiles, and the restoration generators' size
and speed.

    python benchmarks/benchmark_restoration.py --checkpoint CK [--runs 5] [--threads 2] [--out FILE]

Latencies are medians of ``--runs`` calls after one warm-up; the peak memory is the resident-set peak of a fresh
process that loads the model and restores one 4000 x 3000 photo (so nothing else inflates it).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from _common import median_seconds

from inpaint_lightning.inference import Restorer


def peak_memory_mb(model: str, threads: int, tile: int) -> float:
    code = f"""
import resource, numpy as np, torch
torch.set_num_threads({threads})
from inpaint_lightning.inference import Restorer
r = Restorer.from_file({model!r}, tile={tile}, threads={threads})
r(np.random.default_rng(0).integers(0, 256, (3000, 4000, 3), dtype=np.uint8))
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def generators(threads: int, runs: int) -> list[str]:
    from inpaint_lightning.models import NAFNet, RRDBNet

    lines = []
    torch.set_grad_enabled(False)

    def flat(scale: int) -> NAFNet:  # the SR configs' generator, as configs/tasks/sr_x4.yaml sets it
        import yaml
        from _common import ROOT

        config = yaml.safe_load((ROOT / "configs" / "tasks" / "sr_x4.yaml").read_text())
        return NAFNet(**{**config["model"]["generator"]["init_args"], "scale": scale})

    for name, scale, make in (
        ("NAFNet U-Net", 4, NAFNet),
        ("NAFNet flat (SR configs)", 4, flat),
        ("RRDB-lite", 4, RRDBNet),
        ("NAFNet U-Net", 1, NAFNet),
        ("RRDB-lite", 1, RRDBNet),
    ):
        net = make(scale=scale).eval()
        side = 128 if scale == 4 else 512
        x = torch.rand(1, 3, side, side)
        sec = median_seconds(lambda net=net, x=x: net(x), runs)
        params = sum(p.numel() for p in net.parameters()) / 1e6
        lines.append(f"| {name} x{scale} | {params:.2f} M | {side} -> {side * scale} | {sec * 1000:.0f} ms |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    photos = {"512 x 512": rng.integers(0, 256, (512, 512, 3), dtype=np.uint8),
              "2048 x 1536 (tiled)": rng.integers(0, 256, (1536, 2048, 3), dtype=np.uint8)}  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        onnx_file = str(Path(tmp) / "model.onnx")
        from inpaint_lightning.commands import main_standalone

        main_standalone(
            "export", ["--checkpoint", args.checkpoint, "--format", "onnx", "--output", onnx_file]
        )
        backends = {"PyTorch": Restorer.from_file(args.checkpoint, tile=512),
                    "ONNX Runtime": Restorer.from_file(onnx_file, tile=512, threads=args.threads)}  # fmt: skip
        scale = backends["PyTorch"].scale
        lines = [f"Restorer latency, median of {args.runs} ({args.threads} threads, x{scale} model, tile 512, overlap 32):", "",
                 "| input | PyTorch | ONNX Runtime |", "|---|---:|---:|"]  # fmt: skip
        for label, photo in photos.items():
            cells = [
                f"{median_seconds(lambda b=b, p=photo: b(p), args.runs):.2f} s" for b in backends.values()
            ]
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
        peak = {
            name: peak_memory_mb(path, args.threads, 512)
            for name, path in (("PyTorch", args.checkpoint), ("ONNX Runtime", onnx_file))
        }
        lines += ["", "Peak resident memory restoring a 4000 x 3000 photo in 512 px tiles (fresh process): "
                  + ", ".join(f"{k} {v:.0f} MB" for k, v in peak.items())]  # fmt: skip
    lines += ["", "Restoration generators (default sizes, one image):", "", "| generator | params | pixels | time |",
              "|---|---:|---|---:|", *generators(args.threads, args.runs)]  # fmt: skip
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
        (args.out.with_suffix(".json")).write_text(json.dumps({"peak_mb": peak}) + "\n")


if __name__ == "__main__":
    main()
