"""Shared fixtures: tiny CLI runs on CPU, and small image folders with odd files."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import yaml
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
GAN_YAML = ROOT / "configs" / "gan.yaml"
TINY_YAML = ROOT / "tests" / "configs" / "tiny.yaml"
SHARED = ROOT.parent / "shared"

os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("WANDB_SILENT", "true")
if os.environ.get("PYTEST_XDIST_WORKER"):
    # `make test` runs one xdist worker per core: a second torch/OpenMP thread per worker only oversubscribes
    # the cores (and subprocesses a test starts inherit the setting).
    torch.set_num_threads(1)
    os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture(autouse=True)
def no_wandb_run_left_open():
    """Lightning leaves a W&B run open after fit (notebook-friendly); the next WandbLogger would reuse it."""
    yield
    wandb = sys.modules.get("wandb")
    if wandb is not None and getattr(wandb, "run", None) is not None:
        wandb.finish()


@pytest.fixture
def one_thread():
    """Tiny models: one torch thread is fastest and immune to a busy second core."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def default_generator_config() -> dict:
    """``configs/gan.yaml``'s generator (class_path + init_args), read from the file so tests follow it."""
    return yaml.safe_load(GAN_YAML.read_text())["model"]["generator"]


def tiny_args(tmp_path: Path, *extra: str, subcommand: str = "fit") -> list[str]:
    """Arguments for a CPU-fast CLI run writing everything under ``tmp_path``."""
    return [
        subcommand,
        "--config",
        str(GAN_YAML),
        "--config",
        str(TINY_YAML),
        "--trainer.default_root_dir",
        str(tmp_path),
        "--trainer.logger.init_args.save_dir",
        str(tmp_path / "logs"),
        *(("--checkpoint.dirpath", str(tmp_path / "ckpt")) if subcommand == "fit" else ()),
        *extra,
    ]


def random_photo(rng: np.random.Generator, h: int = 48, w: int = 64) -> np.ndarray:
    """A smooth random colour image (not noise: resizing and fills behave like on photos)."""
    small = rng.integers(0, 256, (h // 8 + 1, w // 8 + 1, 3), dtype=np.uint8)
    return np.asarray(Image.fromarray(small).resize((w, h), Image.BILINEAR))


@pytest.fixture
def image_folder(tmp_path: Path) -> Path:
    """A folder of 12 readable PNG/JPEG images in nested subfolders."""
    rng = np.random.default_rng(0)
    root = tmp_path / "images"
    for i in range(12):
        sub = root / f"part{i % 3}"
        sub.mkdir(parents=True, exist_ok=True)
        ext = "png" if i % 2 else "jpg"
        Image.fromarray(random_photo(rng)).save(sub / f"img{i:02d}.{ext}")
    return root


class Recording:
    """A backend wrapper that records the input sizes the network saw."""

    def __init__(self, backend: Any) -> None:  # a TorchBackend (imported lazily by the tests that use it)
        self.backend, self.shapes = backend, []
        self.size_multiple, self.device = backend.size_multiple, backend.device

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        self.shapes.append(tuple(x.shape))
        return self.backend(x)
