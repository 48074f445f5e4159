"""``python -m inpaint_lightning convert``: a published LaMa or MI-GAN checkpoint as a checkpoint of this project.

The result loads with ``weights_only=True`` like any ``fit`` checkpoint, so ``inpaint``, ``evaluate``, ``export``,
``serve`` (and its page) and ``Inpainter.from_file`` take it; they also take the original file directly (it is
converted as it loads), which costs the conversion on every start. What was converted is recorded in the file
(``converted_from``: source, file name, SHA-256, keys consumed and ignored). No object the source file pickles is
built (:mod:`inpaint_lightning.published.unpickle`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from inpaint_lightning.errors import StartupError
from inpaint_lightning.usage import ArgumentParser, program_name


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog=f"{program_name()} convert",
        description="Convert a published LaMa (best.ckpt of lama-fourier, big-lama) or MI-GAN (migan_*.pt) "
        "checkpoint into a checkpoint of this project.",
    )
    parser.add_argument("source", type=Path, help="the published file")
    parser.add_argument(
        "--from", dest="kind", choices=["lama", "migan", "auto"], default="auto",
        help="what the file is (default: recognised from its weights)",
    )  # fmt: skip
    parser.add_argument("--output", type=Path, required=True, help="the .ckpt to write")
    return parser


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    from inpaint_lightning.checkpoint import SafeCheckpointIO, file_sha256, load_generator_and_task
    from inpaint_lightning.published import NAMES, NotPublished, read_published

    if not args.source.is_file():
        raise StartupError(f"checkpoint not found: {args.source}")
    if args.output.resolve() == args.source.resolve():
        raise StartupError("--output must not be the source file itself")
    if args.output.is_dir():
        raise StartupError(f"--output {args.output} is a folder; give a file name")
    try:
        ckpt = read_published(args.source, None if args.kind == "auto" else args.kind)
    except NotPublished as err:
        raise StartupError(str(err)) from None
    ckpt["converted_from"]["sha256"] = file_sha256(args.source)  # hashed here, not on every direct load
    SafeCheckpointIO().save_checkpoint(ckpt, args.output)
    generator, _ = load_generator_and_task(args.output)  # what every command will load
    origin = ckpt["converted_from"]
    config = ckpt["hyper_parameters"]["generator"]
    params = sum(p.numel() for p in generator.parameters()) / 1e6
    ignored = ", ".join(f"{k} ({n})" for k, n in origin["ignored_keys"].items()) or "none"
    args_text = ", ".join(f"{k}={v}" for k, v in config["init_args"].items())
    print(f"wrote {args.output}: {NAMES[origin['source']]} -> {config['class_path'].rsplit('.', 1)[1]}({args_text}), "
          f"{params:.1f}M parameters; {origin['consumed_keys']} keys converted, ignored: {ignored}",
          file=sys.stderr)  # fmt: skip
    print(
        f"use it like any checkpoint: {program_name()} inpaint --checkpoint {args.output} --images ... --masks ...",
        file=sys.stderr,
    )
    return 0
