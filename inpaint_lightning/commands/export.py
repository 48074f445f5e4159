"""``python -m inpaint_lightning export``: the (EMA) generator of a checkpoint (inpainting, restoration, non-blind
deblurring or damage detection; the task and scale go in the file's metadata) as ONNX or TorchScript.

Both formats keep batch, height and width dynamic (FFC generators too: their Fourier units export as a
matrix-product DFT built from the input's shape). H and W must be multiples of the model's ``size_multiple``
(in the ONNX metadata; ``Inpainter.from_onnx`` pads). After writing, the file is run (ONNX Runtime or
TorchScript) at sizes other than the export example's and compared with PyTorch: an architecture whose shapes
tracing froze (DeepFill v2's contextual attention) fails here instead of later. PConv U-Net's partial
convolutions do not export to ONNX (kernel built from a traced shape); TorchScript works.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from inpaint_lightning.errors import StartupError
from inpaint_lightning.usage import ArgumentParser, program_name


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog=f"{program_name()} export",
        description="Export a checkpoint's (EMA) generator to ONNX or TorchScript (dynamic batch, H and W).",
    )
    parser.add_argument(
        "--checkpoint",
        type=Path,
        required=True,
        help="a .ckpt written by fit ('last': the newest run's last.ckpt under ./logs)",
    )
    parser.add_argument("--format", choices=["onnx", "torchscript"], required=True)
    parser.add_argument("--output", type=Path, required=True, help="file to write (.onnx / .pt)")
    parser.add_argument("--no-ema", action="store_true", help="export the raw generator instead of the EMA")
    parser.add_argument("--opset", type=int, default=17, help="ONNX opset (default 17)")
    parser.add_argument(
        "--no-check",
        action="store_true",
        help="skip checking the exported file against PyTorch at other sizes",
    )
    return parser


def parity(
    generator,
    path: Path,
    fmt: str,
    sizes: tuple[tuple[int, int], ...] = ((64, 96), (120, 80)),
    task: str = "inpaint",
) -> float:
    """Max abs difference between the exported file (ONNX Runtime or TorchScript) and PyTorch on random inputs
    of sizes other than the export example's (so frozen shapes show up)."""
    import numpy as np
    import torch

    from inpaint_lightning.inference.loading import onnx_backend, torchscript_backend
    from inpaint_lightning.inference.sizing import padded_size
    from inpaint_lightning.tasks import task_named

    backend = onnx_backend(path, threads=2)[0] if fmt == "onnx" else torchscript_backend(path)[0]
    gen = torch.Generator().manual_seed(0)
    worst = 0.0
    for h, w in sizes:
        h, w = padded_size(h, w, backend.size_multiple, backend.min_side or 1)
        x = task_named(task).example_input(2, h, w, gen)
        with torch.no_grad():
            expected = generator(x).numpy()
        worst = max(worst, float(np.abs(backend(x).numpy() - expected).max()))
    return worst


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    from inpaint_lightning.checkpoint import load_generator_and_task
    from inpaint_lightning.inference.export import export_generator
    from inpaint_lightning.models.contract import contract_of
    from inpaint_lightning.tasks import task_named

    if args.output.resolve() == args.checkpoint.resolve():
        raise StartupError("--output must not be the checkpoint itself")
    if args.output.is_dir():
        raise StartupError(f"--output {args.output} is a folder; give a file name")
    generator, task = load_generator_and_task(args.checkpoint, ema=not args.no_ema)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    try:
        export_generator(generator, args.output, args.format, task=task)
    except Exception as err:  # an architecture the exporters cannot trace: say which, without a traceback
        raise StartupError(f"cannot export {type(generator).__name__} to {args.format}: {err}") from err
    declared = contract_of(generator)
    multiple, scale = declared.size_multiple, declared.scale
    contract_words = task_named(task).export_contract(scale, multiple)
    weights = "raw" if args.no_ema else "EMA"
    print(f"wrote {args.output} ({args.format}, {task}, {type(generator).__name__}, {weights} weights): {contract_words}",
          file=sys.stderr)  # fmt: skip
    if not args.no_check:
        try:
            diff = parity(generator, args.output, args.format, task=task)
        except Exception as err:  # e.g. a shape frozen at the example's size by tracing
            print(
                f"error: the exported model fails at other sizes: {str(err).splitlines()[0]}", file=sys.stderr
            )
            return 1
        runtime = "ONNX Runtime" if args.format == "onnx" else "TorchScript"
        print(f"{runtime} vs PyTorch (batch 2, other sizes): max abs difference {diff:.2e}", file=sys.stderr)
        if diff > 1e-3:
            print(f"error: {runtime} disagrees with PyTorch by more than 1e-3", file=sys.stderr)
            return 1
    return 0
