"""Command-line options shared by ``inpaint``, ``restore``, ``detect``, ``repair`` and ``serve``: which model,
where, and how to size images."""

from __future__ import annotations

import argparse
from typing import Any, TypeVar

from inpaint_lightning.inference.deconvolver import Deconvolver
from inpaint_lightning.inference.detector import DamageDetector
from inpaint_lightning.inference.inpainter import Inpainter
from inpaint_lightning.inference.restorer import Restorer

Tiled = TypeVar("Tiled", bound=Restorer)


def add_model_arguments(
    parser: argparse.ArgumentParser, inpainting: bool = True, restoration: bool = False, many: bool = False
) -> None:
    """``--checkpoint`` (``.ckpt``, ``.onnx`` or TorchScript ``.pt``; repeatable with ``many``), device and
    precision, the Inpainter's sizing and mask options (``inpainting``) and the Restorer's tiling options
    (``restoration``)."""
    group = parser.add_argument_group("model")
    group.add_argument(
        "--checkpoint",
        required=True,
        action="append" if many else "store",
        help="a fit checkpoint (.ckpt, EMA generator; 'last' = the newest run's last.ckpt under ./logs), "
        "an exported .onnx (ONNX Runtime) / .pt (TorchScript), or a classical fill by name: patchmatch, telea, ns, "
        "biharmonic"
        + ("; repeat it to serve several models (an inpainting one and restoration ones, each file's task is "
           "read from it)" if many else ""),
    )  # fmt: skip
    group.add_argument("--device", default="cpu", help="torch device: cpu, cuda, cuda:1 ... (default cpu)")
    group.add_argument(
        "--precision", choices=["fp32", "bf16", "fp16"], default="fp32", help="fp16 only on CUDA"
    )
    group.add_argument("--threads", type=int, default=None, help="CPU threads (torch and ONNX Runtime)")
    group.add_argument(
        "--no-ema", action="store_true", help="use the raw generator's weights instead of the EMA's"
    )
    if restoration:
        add_tile_arguments(parser)
    if not inpainting:
        return
    sizing = parser.add_argument_group("sizing")
    sizing.add_argument(
        "--mode",
        choices=["crop", "full"],
        default="crop",
        help="crop: only windows around the holes (fast on large photos); full: the whole image (default crop)",
    )
    sizing.add_argument(
        "--working-size",
        type=int,
        default=512,
        help="crop mode: windows with a longer side above this are resized down to it (0: never; default 512)",
    )
    sizing.add_argument(
        "--crop-margin",
        type=float,
        default=1.0,
        help="crop mode: context around a hole as a fraction of its longer side (default 1.0)",
    )
    sizing.add_argument(
        "--min-margin", type=int, default=64, help="crop mode: at least this many pixels of context"
    )
    masks = parser.add_argument_group("masks")
    masks.add_argument("--invert-mask", action="store_true", help="masks mark holes in black")
    masks.add_argument(
        "--dilate",
        type=_pixels,
        default=0,
        metavar="PX",
        help="grow every hole by PX pixels (a disk, after --invert-mask): covers the halo of rough masks "
        "(default 0: as drawn)",
    )


def add_tile_arguments(parser: argparse.ArgumentParser) -> None:
    """The Restorer's ``--tile`` and ``--overlap``."""
    tiles = parser.add_argument_group("tiles")
    tiles.add_argument(
        "--tile", type=_pixels, default=512,
        help="restore large images in tiles of this many input pixels (0: whole images; default 512)",
    )  # fmt: skip
    tiles.add_argument(
        "--overlap", type=_pixels, default=32, help="pixels neighbouring tiles share and blend (default 32)"
    )


def add_detection_arguments(parser: argparse.ArgumentParser) -> None:
    """The DamageDetector's ``--threshold``, ``--grow`` and ``--working-side``."""
    group = parser.add_argument_group("damage detection")
    group.add_argument(
        "--threshold", type=float, default=0.5, help="damage probability above which a pixel is damage (0.5)"
    )
    group.add_argument(
        "--grow", type=_pixels, default=2, metavar="PX",
        help="grow the detected damage by PX pixels, so the inpainter also replaces its soft edge (default 2)",
    )  # fmt: skip
    group.add_argument(
        "--working-side", type=_pixels, default=512,
        help="look at photos with their short side brought down to this (the scale damage was trained at; "
        "0: full size; default 512)",
    )  # fmt: skip


def _pixels(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a whole number of pixels, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def inpainter_from_args(args: argparse.Namespace, path: str | None = None) -> Inpainter:
    """Build the Inpainter the options describe (of ``path``, default ``--checkpoint``; StartupError for a bad
    model file)."""
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    return Inpainter.from_file(
        path or args.checkpoint,
        device=args.device,
        precision=args.precision,
        ema=not args.no_ema,
        threads=args.threads,
        invert_mask=args.invert_mask,
        mode=args.mode,
        working_size=args.working_size or None,
        crop_margin=args.crop_margin,
        min_margin=args.min_margin,
        dilate=args.dilate,
    )


def add_kernel_argument(parser: argparse.ArgumentParser) -> None:
    """``--kernel``: the known blur of a non-blind deblurring (``deconvolve``) model."""
    parser.add_argument(
        "--kernel", metavar="KERNEL",
        help="the photos' known blur, for a non-blind deblurring (deconvolve) model: gaussian:SIGMA, disk:RADIUS, "
        "motion:LENGTH:ANGLE (pixels, degrees) or a point-spread-function file (.npy, or a grayscale image)",
    )  # fmt: skip


def restorer_from_args(args: argparse.Namespace, path: str | None = None) -> Restorer:
    """Build the Restorer the options describe (of ``path``, default ``--checkpoint``; a :class:`Deconvolver`
    with ``--kernel`` for a ``deconvolve`` model; StartupError for a bad model file or kernel)."""
    from inpaint_lightning.errors import StartupError
    from inpaint_lightning.inference.deconvolver import parse_kernel

    path = path or args.checkpoint
    kernel = getattr(args, "kernel", None)
    if model_task(path) == "deconvolve":
        if not hasattr(args, "kernel"):
            raise StartupError(f"{path} is a non-blind deblurring model: run it with `restore --kernel`")
        if kernel is None:
            raise StartupError(
                f"{path} deblurs with a known blur: pass --kernel (gaussian:SIGMA, disk:RADIUS, "
                f"motion:LENGTH:ANGLE or a point-spread-function file)"
            )
        try:
            psf = parse_kernel(kernel)
        except ValueError as err:
            raise StartupError(str(err)) from None
        return _tiled_from_args(Deconvolver, args, path, kernel=psf)
    if kernel is not None:
        raise StartupError(f"--kernel is for non-blind deblurring (deconvolve) models; {path} is not one")
    return _tiled_from_args(Restorer, args, path)


def detector_from_args(args: argparse.Namespace, path: str | None = None) -> DamageDetector:
    """Build the DamageDetector the options describe (of ``path``, default ``--checkpoint``)."""
    options = dict(threshold=args.threshold, dilate=args.grow, working_side=args.working_side or None)
    return _tiled_from_args(DamageDetector, args, path, **options)


def _tiled_from_args(cls: type[Tiled], args: argparse.Namespace, path: str | None, **options: Any) -> Tiled:
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        return cls.from_file(
            path or args.checkpoint, device=args.device, precision=getattr(args, "precision", "fp32"),
            ema=not getattr(args, "no_ema", False), threads=args.threads, tile=args.tile or None,
            overlap=args.overlap, **options,
        )  # fmt: skip
    except ValueError as err:  # tile/overlap/threshold out of range
        from inpaint_lightning.errors import StartupError

        raise StartupError(str(err)) from None


def model_task(path: str) -> str:
    """``inpaint``, ``restore``, ``deconvolve`` or ``detect``: what a checkpoint or export was trained for (read
    from the file; a published LaMa / MI-GAN file inpaints)."""
    import os

    from inpaint_lightning.errors import StartupError
    from inpaint_lightning.inference.loading import model_format

    kind = model_format(path)
    if kind == "classical":
        return "inpaint"
    if kind == "onnx":
        import onnx

        if not os.path.isfile(path):
            raise StartupError(f"ONNX model not found: {path}")
        try:
            meta = {p.key: p.value for p in onnx.load(str(path), load_external_data=False).metadata_props}
        except Exception as err:  # onnx raises DecodeError and friends for foreign files
            raise StartupError(f"{path}: not a loadable ONNX model: {err}") from None
        return meta.get("task", "inpaint")
    if kind == "torchscript":
        from inpaint_lightning.inference.export import load_torchscript

        return load_torchscript(path)[1]["task"]
    from inpaint_lightning.checkpoint import load_model_checkpoint

    hparams = load_model_checkpoint(path).get("hyper_parameters") or {}
    return str(hparams.get("task", "inpaint"))


def models_from_args(
    args: argparse.Namespace,
) -> tuple[Inpainter | None, dict[str, Restorer], DamageDetector | None]:
    """The service's models: every ``--checkpoint``, by the task it was trained for. Restoration models are named
    by file stem (``sr_x4.onnx`` -> ``sr_x4``; a repeated stem gets ``_2``...). At most one inpainting model and
    one damage detector."""
    from pathlib import Path

    from inpaint_lightning.errors import StartupError
    from inpaint_lightning.tasks import inference_class

    inpainter, restorers, detector = None, {}, None
    for path in args.checkpoint:
        try:  # served by the class that runs its task's models (photo in, photo out: a Restorer)
            kind = inference_class(model_task(path))
        except ValueError as err:
            raise StartupError(f"{path}: {err}") from None
        if issubclass(kind, Deconvolver):
            raise StartupError(
                f"{path}: serve does not take non-blind deblurring models (each request would need its blur "
                f"kernel); use `restore --kernel`"
            )
        if issubclass(kind, Restorer):
            stem = Path(path).stem
            name, n = stem, 1
            while name in restorers:
                n += 1
                name = f"{stem}_{n}"
            restorers[name] = restorer_from_args(args, path)
        elif issubclass(kind, DamageDetector):
            if detector is not None:
                raise StartupError(f"{path}: a second damage detector; serve one per process")
            detector = detector_from_args(args, path)
        elif inpainter is not None:
            raise StartupError(f"{path}: a second inpainting model; serve one inpainting model per process")
        else:
            inpainter = inpainter_from_args(args, path)
    return inpainter, restorers, detector
