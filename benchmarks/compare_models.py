"""Train several configs for the same wall-clock budget and compare their fills with OpenCV Telea.

    python benchmarks/compare_models.py --minutes 8 --image-size 128 \
        --models configs/gan.yaml configs/models/lama_small.yaml ... [--out logs/compare] [extra CLI flags ...]

Each entry of ``--models`` is layered on ``configs/gan.yaml`` (``configs/gan.yaml`` itself = the default). Data:
the photos in ``--photos`` (default ``../shared/data/photos``) split with a fixed seed; validation = a fixed
``--val-count`` photo split, each paired with a fixed mask from ``--masks`` (default
``../shared/data/masks_irregular``, shuffled with a fixed seed so all hole-size bands appear). After training,
the inference generator (EMA when configured) fills the validation pairs; PSNR / SSIM / LPIPS (alex) are
computed on the composited images, as are those of OpenCV Telea and of the pyramid (push-pull) fill on the same
pairs. Results go to ``OUT/<name>/result.json`` as each model finishes (a re-run skips finished ones), then
``OUT/results.md`` and ``OUT/grid.png`` (rows: samples; columns: masked | telea | each model | original).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from _common import build_cli
from torchvision.utils import save_image

from inpaint_lightning.evaluation import baseline
from inpaint_lightning.evaluation.metrics import image_metrics
from inpaint_lightning.models.generators import pyramid_fill
from inpaint_lightning.pretrained import make_lpips


def telea(masked: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """OpenCV Telea on a batch, through the project's baseline (as ``evaluate --method telea``)."""
    fill = baseline("telea")
    out = []
    for x, m in zip(masked, mask, strict=True):
        rgb = (x.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
        out.append(torch.from_numpy(fill(rgb, m[0].numpy())).permute(2, 0, 1).float() / 255)
    return torch.stack(out)


def evaluate(fill, loader, lpips) -> tuple[dict[str, float], torch.Tensor]:
    """Metrics of ``fill(masked, mask) -> composited`` over the loader, and the first 8 outputs."""
    metrics = image_metrics("", lpips)
    metrics.reset()  # the LPIPS object may have been used before: start from empty states
    shown = []
    with torch.no_grad():
        for batch in loader:
            out = fill(batch["input"], batch["mask"]).clamp(0, 1)
            metrics.update(out, batch["target"])
            shown.append(out)
    return {k: float(v) for k, v in metrics.compute().items()}, torch.cat(shown)[:8]


def data_flags(args: argparse.Namespace, n_photos: int) -> list[str]:
    return [
        "--data.root", args.photos,
        "--data.val_ratio", str(args.val_count / n_photos),
        "--data.test_ratio", "0",
        "--data.eval_corruption", "inpaint_lightning.data.HoleCorruption",
        "--data.eval_corruption.masks", "inpaint_lightning.data.FolderMasks",
        "--data.eval_corruption.masks.root", args.masks,
        "--data.eval_corruption.masks.shuffle_seed", "0",
    ]  # fmt: skip


def train_one(model_cfg: str, args: argparse.Namespace, extra: list[str], out: Path, n_photos: int) -> dict:
    layered = (
        [] if Path(model_cfg).resolve() == Path("configs/gan.yaml").resolve() else ["--config", model_cfg]
    )
    cli = build_cli(
        "configs/gan.yaml", args.image_size, -1,
        *layered,
        "--data.image_size", str(args.image_size),  # after the model config, which may set its own
        *data_flags(args, n_photos),
        "--trainer.max_time", f"00:00:{args.minutes:02d}:00",
        "--trainer.limit_val_batches", "0",
        "--trainer.num_sanity_val_steps", "0",
        "--trainer.enable_checkpointing", "false",
        "--trainer.logger", "lightning.pytorch.loggers.CSVLogger",
        "--trainer.logger.init_args.save_dir", str(out),
        "--trainer.callbacks", "[]",
        *extra,
    )  # fmt: skip
    model, dm = cli.model, cli.datamodule
    params = sum(p.numel() for p in model.generator.parameters())
    t0 = time.perf_counter()
    cli.trainer.fit(model, dm)
    seconds = time.perf_counter() - t0
    model.eval()
    lpips = make_lpips("alex")
    metrics, shown = evaluate(model, dm.val_dataloader(), lpips)
    torch.save(shown, out / "fills.pt")
    return {
        "config": model_cfg,
        "generator": type(model.generator).__name__,
        "params_m": params / 1e6,
        "steps": cli.trainer.global_step,
        "train_seconds": seconds,
        **metrics,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["configs/gan.yaml"])
    parser.add_argument("--minutes", type=int, default=8)
    parser.add_argument("--image-size", type=int, default=128)
    parser.add_argument("--photos", default="../shared/data/photos")
    parser.add_argument("--masks", default="../shared/data/masks_irregular")
    parser.add_argument("--val-count", type=int, default=32)
    parser.add_argument("--out", default="logs/compare")
    args, extra = parser.parse_known_args()
    torch.set_num_threads(max(torch.get_num_threads(), 1))
    root = Path(args.out)
    root.mkdir(parents=True, exist_ok=True)
    n_photos = len([p for p in Path(args.photos).rglob("*") if p.suffix.lower() in {".jpg", ".png", ".jpeg"}])

    results: dict[str, dict] = {}
    for cfg in args.models:
        name = Path(cfg).stem
        folder = root / name
        done = folder / "result.json"
        if not done.exists():
            folder.mkdir(parents=True, exist_ok=True)
            result = train_one(cfg, args, extra, folder, n_photos)
            done.write_text(json.dumps(result, indent=2))
        results[name] = json.loads(done.read_text())

    # Baselines on the same pairs (same data module settings; no training).
    cli = build_cli(
        "configs/gan.yaml", args.image_size, 1, *data_flags(args, n_photos), "--trainer.logger", "false"
    )
    dm = cli.datamodule
    dm.setup("validate")
    assert len(dm.datasets["val"]) == args.val_count, len(dm.datasets["val"])
    lpips = make_lpips("alex")
    baselines = {
        "opencv telea": evaluate(telea, dm.val_dataloader(), lpips),
        "pyramid fill": evaluate(lambda x, m: pyramid_fill(x, m), dm.val_dataloader(), lpips),
    }
    batch = next(iter(dm.val_dataloader()))
    n = min(8, batch["target"].shape[0])
    shown_input = batch["input"][:n] * (1 - batch["mask"][:n]) + batch["mask"][:n]
    columns = [shown_input, baselines["opencv telea"][1][:n]]
    columns += [torch.load(root / name / "fills.pt")[:n] for name in results]
    columns.append(batch["target"][:n])
    save_image(
        torch.stack(columns, dim=1).flatten(0, 1),
        root / "grid.png",
        nrow=len(columns),
        padding=2,
        pad_value=1.0,
    )

    lines = [
        f"{args.val_count} validation photos at {args.image_size} px, masks from {args.masks}; "
        f"{args.minutes} min of training each ({torch.get_num_threads()} torch threads)",
        "",
        "| model | generator | params (M) | steps | PSNR | SSIM | LPIPS |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for name, r in results.items():
        lines.append(
            f"| {name} | {r['generator']} | {r['params_m']:.1f} | {r['steps']} | {r['psnr']:.2f} | "
            f"{r['ssim']:.4f} | {r['lpips']:.4f} |"
        )
    for name, (m, _) in baselines.items():
        lines.append(f"| {name} | - | - | - | {m['psnr']:.2f} | {m['ssim']:.4f} | {m['lpips']:.4f} |")
    lines.append("")
    lines.append(f"grid: {root / 'grid.png'} (columns: masked | telea | {' | '.join(results)} | original)")
    (root / "results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
