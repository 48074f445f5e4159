"""Write tiny checkpoints with a given version of this project, for the tests that keep old checkpoints loading.

Run with the old version first on the path (a checkout of the commit, e.g. made with ``git worktree add``):

    PYTHONPATH=OLD_CHECKOUT python scripts/legacy_checkpoints.py --checkout OLD_CHECKOUT --out tests/fixtures/legacy

For inpainting (``configs/gan.yaml`` + ``tests/configs/tiny.yaml``) and denoising (``configs/tasks/denoise.yaml`` +
``tests/configs/tiny_restore.yaml``) it trains the tests' tiny 4-step run with seed 0 and writes ``NAME.ckpt`` (the
run's ``last.ckpt``), ``NAME_io.pt`` (a seeded input and that version's EMA generator output on it) and the
validation metrics the run logged (``NAME_metrics.csv``); ``legacy.json`` names the commit.

Same seed, same steps, same numbers: run it with another version into a scratch folder and compare with the
fixtures (every logged metric and the EMA generator's output; prints the largest differences):

    PYTHONPATH=. python scripts/legacy_checkpoints.py --checkout . --out /tmp/now --compare tests/fixtures/legacy
"""

from __future__ import annotations

import argparse
import csv
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
    parser.add_argument(
        "--compare", type=Path, help="a folder this script wrote before: print the differences"
    )
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
    if args.compare is not None:
        for name in RUNS:
            compare(name, args.compare, args.out)


def compare(name: str, before: Path, after: Path) -> None:
    """Print the largest difference of ``name``'s logged metrics and EMA output between two folders."""
    rows = [
        list(csv.DictReader((folder / f"{name}_metrics.csv").read_text().splitlines()))
        for folder in (before, after)
    ]
    same_keys = len(rows[0]) == len(rows[1]) and all(set(a) == set(b) for a, b in zip(*rows, strict=True))
    metric = max(
        (abs(float(a[k]) - float(b[k])) for a, b in zip(*rows, strict=False) for k in a if a[k] and b.get(k)),
        default=0.0,
    )
    outputs = [
        torch.load(folder / f"{name}_io.pt", weights_only=True)["output"] for folder in (before, after)
    ]
    print(f"{name}: rows and columns alike {same_keys}; largest metric difference {metric:.3g}; "
          f"largest EMA output difference {float((outputs[0] - outputs[1]).abs().max()):.3g}")  # fmt: skip


if __name__ == "__main__":
    main()
