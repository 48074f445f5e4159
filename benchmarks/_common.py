"""What the scripts share: building the CLI objects for an in-process run of a config; the benchmarks' held-out
split, timings, logged subprocess runs and wall-clock-budgeted fits."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from inpaint_lightning.cli import CLI

ROOT = Path(__file__).resolve().parents[1]


def build_cli(config: str, image_size: int, steps: int, *overrides: str) -> CLI:
    """``CLI(run=False)`` for ``config`` at ``image_size`` for ``steps`` batches, without a progress bar;
    ``overrides`` are further CLI flags (later flags win)."""
    return CLI(
        run=False,
        args=[
            "--config", config,
            "--data.image_size", str(image_size),
            "--trainer.max_steps", str(steps),
            "--trainer.enable_progress_bar", "false",
            *overrides,
        ],
    )  # fmt: skip


def timings(fn: Callable[[], object], runs: int) -> list[float]:
    """Seconds of ``runs`` calls of ``fn`` after one warm-up call."""
    fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def median_seconds(fn: Callable[[], object], runs: int) -> float:
    """The median of :func:`timings`."""
    return statistics.median(timings(fn, runs))


def run(cmd: list[str], log: Path) -> None:
    """Run ``cmd`` with its output appended to ``log`` (and a one-line note on our stdout)."""
    print(f"$ {' '.join(cmd)}  > {log}", flush=True)
    with log.open("a") as f:
        status = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, cwd=ROOT).returncode
    if status:
        sys.exit(f"failed (exit {status}); see {log}")


def prepare(out: Path, *folders: Path) -> bool:
    """A benchmark's start: W&B offline unless told otherwise, every input folder present (else one line on stderr
    and False: the caller exits 2), the output folder made."""
    os.environ.setdefault("WANDB_MODE", "offline")
    for folder in folders:
        if not folder.is_dir():
            print(f"error: folder not found: {folder} (pass it with its flag)", file=sys.stderr)
            return False
    out.mkdir(parents=True, exist_ok=True)
    return True


def eval_split(photos: Path, val_ratio: float, out: Path) -> Path:
    """Link the held-out photos (the data module's own split of ``photos``) into ``out/eval_photos``."""
    from inpaint_lightning.data.sources import folder_splits

    held_out = folder_splits(photos, val_ratio, 0.0, 0)["val"].paths
    folder = out / "eval_photos"
    folder.mkdir(parents=True, exist_ok=True)
    for path in held_out:
        link = folder / path.name
        if not link.exists():
            link.symlink_to(path.resolve())
    (out / "eval_photos.txt").write_text("".join(f"{p.name}\n" for p in held_out))
    print(f"evaluation split: {len(held_out)} photos -> {folder}", flush=True)
    return folder


def fit_for(
    configs: list[str], photos: Path, val_ratio: float, minutes: float, fit_dir: Path, extra: list[str]
) -> Path:
    """``fit`` the layered ``configs`` on ``photos`` minus the held-out split for ``minutes`` of wall clock, with
    a CSV learning curve and checkpoints in ``fit_dir``; returns the last checkpoint."""
    fit_dir.mkdir(parents=True, exist_ok=True)
    seconds = int(minutes * 60)
    cmd = [
        sys.executable, "-m", "inpaint_lightning", "fit", *[a for c in configs for a in ("--config", c)],
        "--data.root", str(photos),
        "--data.val_ratio", str(val_ratio),
        "--data.test_ratio", "0",
        "--trainer.max_steps", "-1",
        "--trainer.max_time", f"00:{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}",
        "--trainer.default_root_dir", str(fit_dir),
        "--trainer.logger", "lightning.pytorch.loggers.CSVLogger",
        "--trainer.logger.init_args.save_dir", str(fit_dir),
        "--trainer.logger.init_args.name", "csv",
        "--checkpoint.dirpath", str(fit_dir / "ckpt"),
        *extra,
    ]  # fmt: skip
    start = time.monotonic()
    run(cmd, fit_dir / "fit.log")
    (fit_dir / "wall_seconds.txt").write_text(f"{time.monotonic() - start:.0f}\n")
    return fit_dir / "ckpt" / "last.ckpt"


def learning_curve(fit_dir: Path) -> list[tuple[int, float, float]]:
    """(step, val/lpips, val/psnr) of each validation in the CSV logs under ``fit_dir``."""
    import csv

    rows = []
    for file in sorted(fit_dir.rglob("metrics.csv")):
        with file.open() as f:
            for row in csv.DictReader(f):
                if row.get("val/lpips"):
                    rows.append((int(float(row["step"])), float(row["val/lpips"]), float(row["val/psnr"])))
    return rows
