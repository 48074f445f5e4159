"""Generator size and CPU inference latency: parameters and median forward time per image size.

    python benchmarks/benchmark_generators.py [--sizes 256 512] [--runs 5] [--threads 2] [GENERATOR ...]

Each GENERATOR is a class path, optionally with JSON init args after ``=``, e.g.
``inpaint_lightning.models.DeepFillV2='{"attention": "self"}'``. Without any, every generator exported by
``inpaint_lightning.models`` is measured at its defaults. Batch 1, eval mode, ``torch.inference_mode()``; one
warm-up forward per size, then the median of ``--runs``. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import importlib
import json
import statistics
import sys
import time

import torch

import inpaint_lightning.models as models
from inpaint_lightning.models.generators import InpaintGenerator


def default_generators() -> list[str]:
    """Every :class:`InpaintGenerator` subclass in ``inpaint_lightning.models.__all__``."""
    return [
        f"inpaint_lightning.models.{name}"
        for name in models.__all__
        if isinstance(cls := getattr(models, name), type)
        and issubclass(cls, InpaintGenerator)
        and cls is not InpaintGenerator
    ]


def build(spec: str) -> tuple[str, torch.nn.Module]:
    """``module.Class[=JSON]`` -> (a display name, the generator)."""
    path, _, raw_args = spec.partition("=")
    module_name, _, class_name = path.rpartition(".")
    kwargs = json.loads(raw_args) if raw_args else {}
    generator = getattr(importlib.import_module(module_name), class_name)(**kwargs)
    name = class_name + (f" {json.dumps(kwargs, separators=(',', ':'))}" if kwargs else "")
    return name, generator


def latency_ms(generator: torch.nn.Module, size: int, runs: int) -> float:
    """Median forward time (ms) of one ``size x size`` image with a box hole, after one warm-up."""
    torch.manual_seed(0)
    image = torch.rand(1, 3, size, size)
    mask = torch.zeros(1, 1, size, size)
    mask[..., size // 4 : size // 2, size // 3 : 2 * size // 3] = 1.0
    x = torch.cat([image * (1.0 - mask), mask], dim=1)
    times = []
    with torch.inference_mode():
        for i in range(runs + 1):
            start = time.perf_counter()
            generator(x)
            if i:  # the first run is the warm-up
                times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("generators", nargs="*", help="class paths, optionally =JSON init args")
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    specs = args.generators or default_generators()
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch 1, median of {args.runs} runs\n"
    )
    print("| generator | params (M) | " + " | ".join(f"{s} px (ms)" for s in args.sizes) + " |")
    print("|---|---:|" + "---:|" * len(args.sizes))
    for spec in specs:
        name, generator = build(spec)
        generator.eval()
        params = sum(p.numel() for p in generator.parameters()) / 1e6
        cells = [f"{latency_ms(generator, size, args.runs):.0f}" for size in args.sizes]
        print(f"| {name} | {params:.2f} | " + " | ".join(cells) + " |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
