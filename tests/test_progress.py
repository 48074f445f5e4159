"""Progress wherever output goes: plain periodic lines when stdout is a file or pipe, a Rich bar on a terminal."""

import io
import re

import pytest
from conftest import tiny_args

from inpaint_lightning.cli import main
from inpaint_lightning.progress import StepProgressBar


def test_redirected_fit_prints_periodic_step_lines_with_totals_losses_and_validation(tmp_path, capsys):
    # capsys' stdout is not a terminal, as with `make fit > fit.log`: the default bar must print plain lines.
    args = tiny_args(tmp_path, "--trainer.enable_progress_bar", "true", "--trainer.max_steps", "4")
    cli = main(args)
    bar = cli.trainer.progress_bar_callback
    assert isinstance(bar, StepProgressBar) and bar.plain
    out = capsys.readouterr().out
    assert "\x1b[" not in out and "\r" not in out  # no terminal control codes in a log file
    assert "training: 4 steps" in out
    steps = [line for line in out.splitlines() if line.startswith("step ")]
    assert steps[0].startswith("step 1/4 (25%)") and steps[-1].startswith("step 4/4 (100%)")
    for line in steps:
        assert (
            re.search(r"\d+\.\d+ (it/s|s/it)", line)
            and "ETA" in line
            and "g_loss" in line
            and "d_loss" in line
        )
    validations = [line for line in out.splitlines() if line.startswith("validation at step")]
    assert [v.split()[3] for v in validations] == ["2", "4"]
    assert all(
        "val/psnr" in v and "val/telea/psnr" in v for v in validations
    )  # the baseline beside the model
    assert "val/psnr" in steps[-1]  # the last validation's metrics ride along with the step lines
    assert "training done: step 4" in out


def test_plain_lines_come_every_n_steps_after_the_first(tmp_path, capsys):
    bar = [
        "--trainer.callbacks+=inpaint_lightning.progress.StepProgressBar",
        "--trainer.callbacks.plain=true",
        "--trainer.callbacks.every_n_steps=2",
        "--trainer.callbacks.every_seconds=1e9",
    ]
    extra = ["--trainer.enable_progress_bar", "true", "--trainer.max_steps", "6", *bar]
    cli = main(tiny_args(tmp_path, *extra))
    bars = [c for c in cli.trainer.callbacks if isinstance(c, StepProgressBar)]
    assert len(bars) == 1 and bars[0].every_n_steps == 2  # the configured bar replaces the default one
    out = capsys.readouterr().out
    assert [int(line.split()[1].split("/")[0]) for line in out.splitlines() if line.startswith("step ")] == [
        1,
        3,
        5,
        6,
    ]


def test_bar_mode_follows_the_stream():
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert not StepProgressBar(stream=Terminal()).plain
    assert StepProgressBar(stream=io.StringIO()).plain
    assert StepProgressBar(plain=True, stream=Terminal()).plain


@pytest.mark.parametrize("max_steps, expected", [(7, 7), (-1, None)])
def test_total_is_max_steps_not_epochs(max_steps, expected):
    class FakeTrainer:
        estimated_stepping_batches = float("inf")

    FakeTrainer.max_steps = max_steps
    assert StepProgressBar().total_steps(FakeTrainer()) == expected
