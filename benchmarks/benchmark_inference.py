"""CPU latency of the Inpainter, PyTorch vs ONNX Runtime, for the default generator (configs/gan.yaml).

    python benchmarks/benchmark_inference.py [--threads 2] [--runs 5] [--checkpoint CKPT]

Cases: a 512 x 512 image with a free-form-sized hole (full mode), and a 2048 x 1536 photo with a small hole
(about 100 x 80 px) in crop mode and in full mode. Without ``--checkpoint`` the generator is built from
``configs/gan.yaml``'s generator arguments with untrained weights (latency does not depend on the weights).
One warm-up call per case, then the median of ``--runs``. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
import yaml
from _common import median_seconds

ROOT = Path(__file__).resolve().parents[1]


def default_generator() -> torch.nn.Module:
    from inpaint_lightning.checkpoint import instantiate

    config = yaml.safe_load((ROOT / "configs" / "gan.yaml").read_text())["model"]["generator"]
    return instantiate(config).eval()


def cases() -> list[tuple[str, np.ndarray, np.ndarray, str]]:
    rng = np.random.default_rng(0)
    small = rng.integers(0, 256, (65, 65, 3), dtype=np.uint8)
    from PIL import Image

    img512 = np.asarray(Image.fromarray(small).resize((512, 512), Image.BILINEAR))
    mask512 = np.zeros((512, 512), np.uint8)
    mask512[180:330, 150:360] = 255
    photo = np.asarray(Image.fromarray(small).resize((2048, 1536), Image.BILINEAR))
    hole = np.zeros((1536, 2048), np.uint8)
    hole[700:780, 1000:1100] = 255
    return [
        ("512 x 512, hole 150 x 210", img512, mask512, "full"),
        ("2048 x 1536, hole 80 x 100", photo, hole, "crop"),
        ("2048 x 1536, hole 80 x 100", photo, hole, "full"),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--checkpoint", default=None, help="a fit checkpoint (default: untrained gan.yaml G)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    from inpaint_lightning.checkpoint import load_generator
    from inpaint_lightning.inference import Inpainter, export_onnx

    generator = load_generator(args.checkpoint) if args.checkpoint else default_generator()
    with tempfile.TemporaryDirectory() as tmp:
        onnx_path = Path(tmp) / "generator.onnx"
        export_onnx(generator, onnx_path)
        backends = {
            "PyTorch": Inpainter.from_generator(generator),
            "ONNX Runtime": Inpainter.from_onnx(onnx_path, threads=args.threads),
        }
        params = sum(p.numel() for p in generator.parameters()) / 1e6
        print(
            f"{type(generator).__name__} ({params:.1f}M parameters), CPU, {args.threads} threads "
            f"(torch {torch.__version__}), median of {args.runs}\n"
        )
        print("| image | mode | PyTorch (s) | ONNX Runtime (s) |")
        print("|---|---|---|---|")
        for name, image, mask, mode in cases():
            row = [
                f"{median_seconds(lambda inp=inp, image=image, mask=mask, mode=mode: inp(image, mask, mode=mode), args.runs):.3f}"
                for inp in backends.values()
            ]
            print(f"| {name} | {mode} | {row[0]} | {row[1]} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
