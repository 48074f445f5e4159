"""Checkpoints written by an earlier version keep working: tiny inpainting and denoising runs of commit
``tests/fixtures/legacy/legacy.json`` (``scripts/legacy_checkpoints.py``) load, predict what that version predicted,
rebuild the whole LightningModule and resume training."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from conftest import tiny_args

from inpaint_lightning.checkpoint import load_generator_and_task
from inpaint_lightning.cli import main
from inpaint_lightning.inference import Inpainter, Restorer
from inpaint_lightning.module import GANModule

LEGACY = Path(__file__).parent / "fixtures" / "legacy"
RUNS = json.loads((LEGACY / "legacy.json").read_text())["runs"]


@pytest.mark.parametrize("name", RUNS)
def test_a_legacy_checkpoint_predicts_what_its_version_predicted(name):
    generator, task = load_generator_and_task(LEGACY / f"{name}.ckpt")
    saved = torch.load(LEGACY / f"{name}_io.pt", weights_only=True)
    assert task == saved["task"]
    with torch.no_grad():
        torch.testing.assert_close(generator(saved["input"]), saved["output"], rtol=0, atol=1e-6)


@pytest.mark.parametrize("name, cls", [("inpaint_tiny", Inpainter), ("denoise_tiny", Restorer)])
def test_a_legacy_checkpoint_loads_in_its_inference_class_and_module(name, cls):
    assert isinstance(cls.from_file(LEGACY / f"{name}.ckpt"), cls)
    module = GANModule.load_from_checkpoint(str(LEGACY / f"{name}.ckpt"))
    assert module.discriminator is not None


def test_a_legacy_inpainting_run_resumes(tmp_path):
    cli = main(
        tiny_args(tmp_path, "--ckpt_path", str(LEGACY / "inpaint_tiny.ckpt"), "--trainer.max_steps", "6")
    )
    assert cli.trainer.global_step == 6 and (tmp_path / "ckpt" / "last.ckpt").is_file()


def test_the_old_names_still_import():
    from inpaint_lightning.cli import CLI, InpaintCLI
    from inpaint_lightning.data import ImageDataModule, InpaintDataModule
    from inpaint_lightning.module import GANModule as current
    from inpaint_lightning.module import InpaintingGAN

    # code and notebooks written against the first names keep running
    assert InpaintingGAN is current and InpaintDataModule is ImageDataModule and InpaintCLI is CLI
