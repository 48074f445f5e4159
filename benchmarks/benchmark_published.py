"""CPU latency at 512 x 512 of the published architectures beside this project's default generator, PyTorch and
ONNX Runtime.

    python benchmarks/benchmark_published.py [--threads 2] [--runs 5] [--out logs/benchmark_published.md]

Generators (untrained weights: latency does not depend on them): MI-GAN 512 (the released inference network's
configuration), configs/gan.yaml's default, lama-fourier (FFC ResNet 64 channels, 9 blocks) and big-lama (18 blocks),
the last two in their converted form (``head: sigmoid``). Each runs on one 1 x 4 x 512 x 512 input (masked photo ++
a free-form-sized hole) through the backends ``Inpainter`` uses: PyTorch (``TorchBackend``: NHWC input on the
CPU, fp32) and ONNX Runtime (``export --format onnx``). One warm-up call, then the median of ``--runs``; each row is
appended to ``--out`` as soon as it is measured.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

import torch
import yaml
from _common import timings

ROOT = Path(__file__).resolve().parents[1]


def generators() -> dict[str, torch.nn.Module]:
    from inpaint_lightning.checkpoint import instantiate
    from inpaint_lightning.models import MIGAN, FFCResNet

    default = yaml.safe_load((ROOT / "configs" / "gan.yaml").read_text())["model"]["generator"]
    return {
        "MI-GAN 512": MIGAN(resolution=512),
        "default (configs/gan.yaml)": instantiate(default),
        "lama-fourier": FFCResNet(n_blocks=9, head="sigmoid"),
        "big-lama": FFCResNet(n_blocks=18, head="sigmoid"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--out", type=Path, default=Path("logs/benchmark_published.md"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    from inpaint_lightning.inference.backends import TorchBackend
    from inpaint_lightning.inference.export import export_onnx
    from inpaint_lightning.inference.onnx_runtime import OnnxBackend

    gen = torch.Generator().manual_seed(0)
    x = torch.rand(1, 4, args.size, args.size, generator=gen)
    x[:, 3:] = 0.0
    x[:, 3:, 150:330, 120:380] = 1.0
    x[:, :3] *= 1.0 - x[:, 3:]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "a") as f:
        f.write(f"\n{args.size} x {args.size}, {args.threads} threads, median of {args.runs} (s)\n\n")
        f.write("| generator | parameters | PyTorch | ONNX Runtime |\n|---|---:|---:|---:|\n")
    for name, generator in generators().items():
        generator.eval()
        params = sum(p.numel() for p in generator.parameters()) / 1e6
        torch_times = timings(lambda g=generator: TorchBackend(g)(x), args.runs)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "g.onnx"
            export_onnx(generator, path)
            backend = OnnxBackend(path, threads=args.threads)
            onnx_times = timings(lambda b=backend: b(x), args.runs)
        row = (
            f"| {name} | {params:.1f}M | {statistics.median(torch_times):.3f} | "
            f"{statistics.median(onnx_times):.3f} |"
        )
        print(row, "runs:", [round(t, 3) for t in torch_times], [round(t, 3) for t in onnx_times], flush=True)
        with open(args.out, "a") as f:
            f.write(row + "\n")


if __name__ == "__main__":
    main()
