"""Write tiny checkpoints with a given version of this project, for the tests that keep old checkpoints loading.

Run with the old version first on the path (a checkout of the commit, e.g. made with ``git worktree add``):

    PYTHONPATH=OLD_CHECKOUT python scripts/legacy_checkpoints.py --checkout OLD_CHECKOUT --out tests/fixtures/legacy

For inpainting (``configs/gan.yaml`` + ``tests/configs/tiny.yaml``) and denoising (``configs/tasks/denoise.yaml`` +
``tests/configs/tiny_restore.yaml``) it trains the tests' tiny 4-step run with seed 0 and writes ``NAME.ckpt`` (the
run's ``last.ckpt``), ``NAME_io.pt`` (a seeded input and that version's EMA generator output on it) and the
validation metrics the run logged (``NAME_metrics.csv``); ``legacy.json`` names the commit.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

RUNS = {
    "inpaint_tiny": ("configs/gan.yaml", "tests/configs/tiny.yaml", 4),
    "denoise_tiny": ("configs/tasks/denoise.yaml", "tests/configs/tiny_restore.yaml", 3),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--checkout", type=Path, required=True, help="the version's checkout (also on PYTHONPATH)"
    )
    parser.add_argument("--out", type=Path, default=Path("tests/fixtures/legacy"))
    args = parser.parse_args()
    import inpaint_lightning
    from inpaint_lightning.checkpoint import load_generator_and_task

    checkout = args.checkout.resolve()
    if not Path(inpaint_lightning.__file__).resolve().is_relative_to(checkout):
        sys.exit(
            f"inpaint_lightning is imported from {inpaint_lightning.__file__}, not {checkout}: set PYTHONPATH"
        )
    commit = subprocess.run(["git", "-C", str(checkout), "rev-parse", "HEAD"], capture_output=True, text=True,
                            check=True).stdout.strip()  # fmt: skip
    args.out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(checkout), "WANDB_MODE": "offline"}
    for name, (config, tiny, channels) in RUNS.items():
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(
                [sys.executable, "-m", "inpaint_lightning", "fit", "--config", str(checkout / config),
                 "--config", str(checkout / tiny), "--seed_everything", "0", "--trainer.default_root_dir", tmp,
                 "--trainer.logger.init_args.save_dir", f"{tmp}/logs", "--checkpoint.dirpath", f"{tmp}/ckpt"],
                cwd=checkout, env=env, check=True,
            )  # fmt: skip
            shutil.copy(Path(tmp) / "ckpt" / "last.ckpt", args.out / f"{name}.ckpt")
            shutil.copy(next(Path(tmp, "logs").glob("**/metrics.csv")), args.out / f"{name}_metrics.csv")
        generator, task = load_generator_and_task(args.out / f"{name}.ckpt")
        x = torch.rand(2, channels, 32, 48, generator=torch.Generator().manual_seed(0))
        if channels == 4:
            x[:, 3:] = (x[:, 3:] > 0.6).float()
            x[:, :3] *= 1 - x[:, 3:]
        with torch.no_grad():
            torch.save({"input": x, "output": generator(x), "task": task}, args.out / f"{name}_io.pt")
    (args.out / "legacy.json").write_text(json.dumps({"commit": commit, "runs": list(RUNS)}, indent=2) + "\n")
    for path in sorted(args.out.iterdir()):
        print(f"{path}: {path.stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
