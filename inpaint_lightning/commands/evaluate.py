"""``python -m inpaint_lightning evaluate``: score a checkpoint, a classical baseline or a folder of predictions
with the metrics of :mod:`inpaint_lightning.evaluation.metrics`.

Inpainting: fixed image/mask pairs, per 10 % hole-ratio bucket. Restoration: clean images degraded by fixed
``--degradation`` presets (one bucket per preset, e.g. ``denoise15 denoise25 denoise50``), or a folder of real
low-quality images (``--lq``) against ``--images`` as ground truth; PSNR/SSIM on RGB and on Y with a border of
``scale`` pixels cropped (BasicSR's convention), LPIPS; classical baselines in the same harness.

Writes into ``--output``: ``metrics.json`` and ``metrics.csv`` (overall and per bucket), ``per_image.csv``,
``report.html`` and ``grid.png`` (best and worst examples), and with ``--save-outputs`` the outputs in
``outputs/``.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import torch
from torch import Tensor
from torch.utils.data import DataLoader
from tqdm import tqdm

from inpaint_lightning.composite import composite
from inpaint_lightning.data.degradations import PRESETS, preset
from inpaint_lightning.data.eval_sets import DegradedImages, EvalPairs, LQPairs, collate
from inpaint_lightning.data.lq_gt import find_scale, pair_lq_gt
from inpaint_lightning.data.mask_pairing import check_output_folder, named_images, pair_paths
from inpaint_lightning.errors import StartupError
from inpaint_lightning.evaluation import BASELINES, baseline
from inpaint_lightning.evaluation.distribution import DistributionMetrics
from inpaint_lightning.evaluation.report import format_table, save_results, write_html
from inpaint_lightning.evaluation.restoration_baselines import RESTORE_BASELINES
from inpaint_lightning.evaluation.scorer import Scorer
from inpaint_lightning.tasks import task_named
from inpaint_lightning.usage import ArgumentParser, program_name

Method = Callable[[dict], Tensor]


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog=f"{program_name()} evaluate",
        description="Score inpainting on fixed image/mask pairs (masks: white = hole unless --invert-masks), or "
        "restoration on clean images degraded by --degradation presets or on real --lq images.",
    )
    parser.add_argument(
        "--images", type=Path, required=True, help="folder of ground-truth images (or one image file)"
    )
    parser.add_argument(
        "--masks", type=Path, help="folder of masks, or one mask file (default: <stem>_mask*.png in --images)"
    )
    restore = parser.add_mutually_exclusive_group()
    restore.add_argument(
        "--degradation", nargs="+", choices=PRESETS, metavar="PRESET",
        help=f"restoration: degrade --images with these fixed presets, one bucket each ({', '.join(PRESETS)})",
    )  # fmt: skip
    restore.add_argument(
        "--lq", type=Path, help="restoration: folder of real low-quality images paired by name with --images"
    )
    parser.add_argument("--degradation-seed", type=int, default=0, help="fixes every image's degradation")
    parser.add_argument("--output", type=Path, required=True, help="folder for metrics and the report")
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument(
        "--checkpoint",
        type=Path,
        help="a training checkpoint (its EMA generator is used; 'last': the newest run's under ./logs)",
    )
    what.add_argument(
        "--method", choices=(*BASELINES, *RESTORE_BASELINES), metavar="METHOD",
        help=f"a classical baseline: inpainting {', '.join(BASELINES)}; restoration {', '.join(RESTORE_BASELINES)}",
    )  # fmt: skip
    what.add_argument("--predictions", type=Path, help="folder of outputs named <image stem>.<ext>")
    parser.add_argument("--invert-masks", action="store_true", help="masks mark the hole in black")
    parser.add_argument("--size", type=int, help="crop images to NxN (short side scaled, centre crop)")
    parser.add_argument("--lpips", choices=["alex", "vgg", "off"], default="alex")
    parser.add_argument(
        "--fid", action="store_true", help="also FID (in --embedding; only when n >= 2 x its features)"
    )
    parser.add_argument("--kid", action="store_true", help="also KID with its std and n (in --embedding)")
    parser.add_argument(
        "--bucket-width", type=float, default=0.1,
        help="hole-ratio bucket width (0.1: the NVIDIA masks' bands; 0.2: CoModGAN's for large masks)",
    )  # fmt: skip
    parser.add_argument(
        "--ids",
        action="store_true",
        help="also CoModGAN's P-IDS/U-IDS (linear SVM, fitted on half the pairs)",
    )
    parser.add_argument(
        "--embedding", choices=["inception", "alexnet", "random"], default="inception",
        help="features of FID/KID/IDS: inception (torch-fidelity's weights), alexnet (ImageNet, offline), random "
        "(seeded random network, the control)",
    )  # fmt: skip
    parser.add_argument("--inception-weights", type=Path, help="torch-fidelity Inception weights file")
    parser.add_argument("--no-composite", action="store_true", help="score predictions as they are")
    parser.add_argument("--batch-size", type=int, default=8, help="used with --size (native sizes: 1)")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--limit", type=int, help="score only the first N pairs")
    parser.add_argument("--pair-seed", type=int, default=0, help="mask assignment when names do not match")
    parser.add_argument("--radius", type=int, default=3, help="inpainting radius of telea/ns")
    parser.add_argument("--report", type=int, default=8, help="best and worst N in the visual report")
    parser.add_argument("--save-outputs", action="store_true", help="write composited outputs to outputs/")
    parser.add_argument("--wandb", metavar="PROJECT", help="log the table to this W&B project")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def make_method(
    args: argparse.Namespace, device: torch.device, protocol: str
) -> tuple[str, Method, int | None]:
    """(label, batch -> output on ``device``, the method's scale or None when it has none of its own) for the
    ``protocol`` the flags chose (``holes``, ``degradations``, ``pairs``); a checkpoint's own task runs it."""
    task = "inpaint" if protocol == "holes" else "restore"  # the family of classical methods
    if args.checkpoint is not None:
        from inpaint_lightning.checkpoint import load_generator_and_task

        generator, trained_for = load_generator_and_task(args.checkpoint, map_location=device)
        trained = task_named(trained_for)
        if protocol not in trained.evaluated_on:
            raise StartupError(
                f"{args.checkpoint} is {trained.summary.split(':')[0]}: {trained.evaluate_with}"
            )
        label = f"checkpoint {args.checkpoint}"

        def run_model(batch: dict) -> Tensor:  # the task's generator input and output, as in validation
            on_device = {k: v.to(device) if isinstance(v, Tensor) else v for k, v in batch.items()}
            return trained.output(generator(trained.generator_input(on_device)), on_device)

        return label, run_model, (None if protocol == "holes" else _scale(generator))
    if args.method is not None:
        family = RESTORE_BASELINES if task == "restore" else BASELINES
        if args.method not in family:
            kind = "a restoration" if task == "restore" else "an inpainting"
            raise StartupError(
                f"--method {args.method} is not {kind} baseline; choose one of {', '.join(family)}"
            )
        if task == "restore":
            return args.method, _restore_baseline(args.method, device), None
        fill = baseline(args.method, args.radius)

        def run_baseline(batch: dict) -> Tensor:
            out = []
            for image, mask in zip(batch["target"], batch["mask"], strict=True):
                rgb = (image.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
                filled = fill(rgb, mask[0].numpy())
                out.append(torch.from_numpy(filled).permute(2, 0, 1).float() / 255)
            result = torch.stack(out)
            return composite(result, batch["target"], batch["mask"]).to(device)

        return args.method, run_baseline, None

    def run_predictions(batch: dict) -> Tensor:
        pred = batch["prediction"].to(device)
        if args.no_composite or task == "restore":
            return pred
        return composite(pred, batch["target"].to(device), batch["mask"].to(device))

    return f"predictions {args.predictions}", run_predictions, None


def _scale(generator: torch.nn.Module) -> int:
    from inpaint_lightning.models.contract import contract_of

    return contract_of(generator).scale


def _restore_baseline(name: str, device: torch.device) -> Method:
    fn = RESTORE_BASELINES[name]

    def run(batch: dict) -> Tensor:
        scale = batch["target"].shape[-1] // batch["input"].shape[-1]
        out = []
        for low, kernel in zip(batch["input"], batch["kernel"], strict=True):
            restored = fn(low.permute(1, 2, 0).numpy().astype(np.float32), scale, kernel)
            out.append(torch.from_numpy(np.ascontiguousarray(restored)).permute(2, 0, 1).float())
        return torch.stack(out).to(device)

    return run


def _restoration_data(
    args: argparse.Namespace, method_scale: int | None
) -> tuple[torch.utils.data.Dataset, int]:
    """The restoration samples of ``args`` and their scale (checked against the method's)."""
    if args.masks is not None or args.invert_masks:
        raise StartupError(
            "--masks/--invert-masks are for inpainting; restoration takes --degradation or --lq"
        )
    if args.degradation:
        scales = {preset(name).scale for name in args.degradation}
        if len(scales) > 1:
            raise StartupError(f"--degradation presets of one run must share a scale, got {sorted(scales)}")
        scale = scales.pop()
        named = named_images(args.images)
        if not named:
            raise StartupError(f"no readable image in {args.images}")
        dataset: torch.utils.data.Dataset = DegradedImages(
            named, list(args.degradation), args.size, args.degradation_seed,
            args.predictions,
        )  # fmt: skip
    else:
        pairs = pair_lq_gt(args.lq, args.images)
        scale = find_scale(pairs)
        dataset = LQPairs(pairs, scale, args.size, args.predictions)
    if method_scale is not None and method_scale != scale:
        raise StartupError(f"the model up-scales x{method_scale} but the data is x{scale}")
    return dataset, scale


def _check_output(args: argparse.Namespace) -> None:
    inputs = [p for p in (args.images, args.masks, args.lq, args.predictions) if p is not None]
    out = args.output.resolve()
    if any(out == p.resolve() for p in inputs):
        raise StartupError(f"--output {args.output} is an input folder; choose a new folder")
    if args.predictions is not None and not args.predictions.is_dir():
        raise StartupError(f"predictions folder not found: {args.predictions}")
    if args.save_outputs:  # outputs/ must not be (or lie in) the predictions or images being scored
        check_output_folder(
            args.output / "outputs", *inputs, flag="--output (with --save-outputs, its outputs/)"
        )


def evaluate(args: argparse.Namespace) -> dict:
    """Run the evaluation described by parsed ``args``; returns the summary (also written to ``--output``)."""
    _check_output(args)
    device = torch.device(args.device)
    protocol = "pairs" if args.lq is not None else "degradations" if args.degradation else "holes"
    task = "inpaint" if protocol == "holes" else "restore"
    label, method, method_scale = make_method(args, device, protocol)
    y_border: int | None = None
    if task == "restore":
        dataset, y_border = _restoration_data(args, method_scale)
        if args.limit is not None:
            dataset = torch.utils.data.Subset(dataset, range(min(args.limit, len(dataset))))
    else:
        pairs = pair_paths(args.images, args.masks, seed=args.pair_seed)
        if args.limit is not None:
            pairs = pairs[: args.limit]
        dataset = EvalPairs(pairs, size=args.size, invert=args.invert_masks, predictions=args.predictions)
    distribution = None
    if args.fid or args.kid or args.ids:
        distribution = DistributionMetrics(
            fid=args.fid,
            kid=args.kid,
            ids=args.ids,
            embedding=args.embedding,
            weights_path=args.inception_weights,
        )
    scorer = Scorer(args.lpips, distribution, keep=args.report, bucket_width=args.bucket_width).to(device)
    loader = DataLoader(
        dataset,
        batch_size=args.batch_size if args.size and args.lq is None else 1,  # real pairs: mixed sizes
        num_workers=args.workers,
        collate_fn=collate,
    )
    outputs_dir = args.output / "outputs"
    if args.save_outputs:
        outputs_dir.mkdir(parents=True, exist_ok=True)
    start, scored_time = time.perf_counter(), 0.0
    with torch.inference_mode():
        for batch in tqdm(loader, desc=f"evaluate {label}", disable=args.quiet, unit="batch"):
            if batch is None:
                continue
            t0 = time.perf_counter()
            output = method(batch)
            mask = batch["mask"].to(device) if "mask" in batch else None
            scorer.update(
                output, batch["target"].to(device), mask, batch["name"], masked=batch["input"].to(device),
                buckets=batch.get("bucket"), y_border=y_border,
            )  # fmt: skip
            scored_time += time.perf_counter() - t0
            if args.save_outputs:
                for name, img in zip(batch["name"], output, strict=True):
                    rgb = (img.clamp(0, 1) * 255).round().byte().permute(1, 2, 0).cpu().numpy()
                    target = outputs_dir / f"{name}.png"
                    target.parent.mkdir(parents=True, exist_ok=True)  # names keep input sub-folders
                    cv2.imwrite(str(target), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    if not scorer.records:
        raise StartupError("no pair could be scored (all files unreadable or predictions missing)")
    elapsed = time.perf_counter() - start
    summary = scorer.summary()
    meta = {
        "method": label,
        "task": task,
        "images": str(args.images),
        "masks": str(args.masks or args.images) if task == "inpaint" else None,
        "degradation": args.degradation,
        "lq": None if args.lq is None else str(args.lq),
        "degradation_seed": args.degradation_seed if args.degradation else None,
        "scale": y_border,
        "size": args.size,
        "invert_masks": args.invert_masks,
        "lpips_net": args.lpips,
        "embedding": args.embedding if distribution is not None else None,
        "bucket_width": args.bucket_width,
        "images_per_second": len(scorer.records) / elapsed,
        "seconds": elapsed,
        "method_and_metric_seconds": scored_time,
    }
    save_results(scorer, summary, args.output, meta)
    write_html(scorer, summary, args.output, title=f"inpaint_lightning evaluate: {label}")
    if args.wandb:
        import wandb

        from inpaint_lightning.evaluation.report import summary_rows

        run = wandb.init(project=args.wandb, job_type="evaluate", config=meta, dir=str(args.output))
        rows = summary_rows(summary)
        columns = list(dict.fromkeys(k for row in rows for k in row))
        run.log(
            {"evaluate/table": wandb.Table(columns=columns, data=[[r.get(c) for c in columns] for r in rows])}
        )
        run.summary.update({f"evaluate/{k}": v for k, v in summary["overall"].items()})
        run.finish()
    return {**summary, "meta": meta}


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    result = evaluate(args)
    meta = result["meta"]
    print(format_table(result, title=meta["method"]))
    print(
        f"\n{result['overall']['count']} images, {meta['images_per_second']:.2f} images/s; "
        f"results in {args.output} (metrics.json, metrics.csv, per_image.csv, report.html)"
    )
    return 0
