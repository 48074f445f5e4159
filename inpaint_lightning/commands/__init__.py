"""Subcommands outside Lightning's trainer loop (``masks``, ``degrade``, ``evaluate``, ``inpaint``, ``restore``,
``detect``, ``repair``, ``export``, ``convert``, ``serve``).

Each is a module here with ``main(argv: list[str]) -> int``; ``inpaint_lightning.cli.main`` sends
``python -m inpaint_lightning <name> ...`` to it and everything else to LightningCLI (fit/validate/test/predict).
Modules are imported only when their command runs, so ``fit`` never pays for FastAPI or onnxruntime.
"""

from __future__ import annotations

import importlib

#: command name -> module under inpaint_lightning.commands, and its one-line help.
COMMANDS: dict[str, tuple[str, str]] = {
    "masks": ("masks", "write a fixed, seeded mask set to a folder"),
    "degrade": ("degrade", "make seeded restoration pairs (lq/, gt/) from clean photos"),
    "evaluate": ("evaluate", "score a checkpoint, a classical baseline or a folder of predictions"),
    "inpaint": ("inpaint", "inpaint image files or folders with a checkpoint (or an exported model)"),
    "restore": ("restore", "restore (denoise, deblur, super-resolve...) image files or folders with a model"),
    "detect": ("detect", "find old-photo damage (scratches, dust, tears...) and write masks"),
    "repair": (
        "repair",
        "repair old photos: inpaint the damage a mask (or a detector) marks, then restore them",
    ),
    "export": ("export", "export the (EMA) generator to ONNX or TorchScript"),
    "convert": ("convert", "convert a published LaMa or MI-GAN checkpoint into a checkpoint of this project"),
    "serve": ("serve", "HTTP service and painting page (FastAPI)"),
}


def run(name: str, argv: list[str]) -> int:
    """Run command ``name`` with its own arguments; returns the exit status."""
    module = importlib.import_module(f"inpaint_lightning.commands.{COMMANDS[name][0]}")
    return int(module.main(argv) or 0)


def main_standalone(name: str, argv: list[str]) -> int:
    """Run a command as a process entry point: a :class:`StartupError` prints one line and exits with 2."""
    from inpaint_lightning.errors import StartupError

    try:
        return run(name, argv)
    except StartupError as err:
        import sys

        print(f"error: {err}", file=sys.stderr)
        return 2
