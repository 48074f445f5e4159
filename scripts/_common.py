"""What the scripts share: building the CLI objects for an in-process run of a config."""

from __future__ import annotations

from inpaint_lightning.cli import InpaintCLI


def build_cli(config: str, image_size: int, steps: int, *overrides: str) -> InpaintCLI:
    """``InpaintCLI(run=False)`` for ``config`` at ``image_size`` for ``steps`` batches, without a progress bar;
    ``overrides`` are further CLI flags (later flags win)."""
    return InpaintCLI(
        run=False,
        args=[
            "--config", config,
            "--data.image_size", str(image_size),
            "--trainer.max_steps", str(steps),
            "--trainer.enable_progress_bar", "false",
            *overrides,
        ],
    )  # fmt: skip
