"""Training throughput: median seconds per step (one D + one G update) of a config, validation off.

    python benchmarks/benchmark_training.py --image-size 64 --steps 40 [--runs 3] [extra CLI flags ...]

Prints steps/s and images/s from the median step time of each run (the first 5 steps are warm-up), then the
median over runs. Uses the same CLI and data pipeline as `fit`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time

import lightning as L
import torch
from _common import build_cli


class StepTimer(L.Callback):
    def __init__(self) -> None:
        self.times: list[float] = []
        self._last = 0.0

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        self._last = time.perf_counter()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self.times.append(time.perf_counter() - self._last)


def one_run(args: argparse.Namespace, extra: list[str]) -> float:
    timer = StepTimer()
    with tempfile.TemporaryDirectory() as tmp:
        cli = build_cli(
            args.config, args.image_size, args.steps,
            "--data.batch_size", str(args.batch_size),
            "--trainer.limit_val_batches", "0",
            "--trainer.logger", "false",
            "--trainer.enable_checkpointing", "false",
            "--trainer.enable_model_summary", "false",
            "--trainer.default_root_dir", tmp,
            *extra,
        )  # fmt: skip
        cli.trainer.callbacks.append(timer)
        cli.trainer.fit(cli.model, cli.datamodule)
    return statistics.median(timer.times[5:])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/gan.yaml")
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--runs", type=int, default=3)
    args, extra = parser.parse_known_args()
    per_run = [one_run(args, extra) for _ in range(args.runs)]
    step = statistics.median(per_run)
    print(
        f"\n{args.config} at {args.image_size} px, batch {args.batch_size}, torch threads "
        f"{torch.get_num_threads()}: median {step * 1000:.0f} ms/step over {args.runs} runs "
        f"({', '.join(f'{t * 1000:.0f}' for t in per_run)} ms) -> {1 / step:.2f} steps/s, "
        f"{args.batch_size / step:.1f} images/s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
