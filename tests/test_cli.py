"""End-to-end runs of the command line, in process (fast) except where a real subprocess matters."""

import csv
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from conftest import GAN_YAML, ROOT, tiny_args

from inpaint_lightning.cli import main


def _metrics(tmp_path: Path) -> list[dict]:
    files = sorted((tmp_path / "logs").rglob("metrics.csv"))
    assert files, "CSVLogger wrote nothing"
    with open(files[-1]) as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("precision", ["32", "bf16-mixed"])
def test_fit_runs_validates_checkpoints_and_logs(tmp_path, precision):
    # fp32: also the default recipe's LPIPS-VGG term (tiny.yaml turns it off for speed elsewhere; VGG16 under
    # bf16 autocast on a CPU would cost the suite half a minute for nothing the fp32 run does not show)
    realism = ["--model.loss.init_args.lpips_vgg", "2.0"] if precision == "32" else []
    cli = main(tiny_args(tmp_path, "--trainer.precision", precision, *realism))
    assert cli.trainer.global_step == 4  # max_steps counts batches, not D + G optimizer steps
    rows = _metrics(tmp_path)
    train_keys = {k for r in rows for k, v in r.items() if v and k.startswith("train/")}
    assert {
        "train/d/loss",
        "train/g/loss",
        "train/g/l1_hole",
        "train/g/l1_valid",
        "train/g/adversarial",
        "train/lr_g",
        "train/lr_d",
        # the default recipe's realism terms, each logged
        "train/g/feature_matching",
        "train/d/r1",  # lazy: step 0 is an R1 step
    } <= train_keys
    assert ("train/g/lpips_vgg" in train_keys) == bool(realism)
    assert sum(1 for r in rows if r.get("val/psnr")) == 2  # val_check_interval 2 within 4 steps
    ckpts = {p.name for p in (tmp_path / "ckpt").iterdir()}
    assert "last.ckpt" in ckpts and len(ckpts) >= 2
    panels = list((tmp_path / "logs").rglob("panels/*.png"))
    assert len(panels) == 2


def test_validate_test_and_predict_from_checkpoint(tmp_path):
    main(tiny_args(tmp_path))
    ckpt = str(tmp_path / "ckpt" / "last.ckpt")
    for sub in ("validate", "test"):
        cli = main(tiny_args(tmp_path, "--ckpt_path", ckpt, subcommand=sub))
        metrics = cli.trainer.callback_metrics
        prefix = "val" if sub == "validate" else "test"
        assert {f"{prefix}/psnr", f"{prefix}/ssim"} <= set(metrics)
        assert 5 < metrics[f"{prefix}/psnr"] < 60
    cli = main(
        tiny_args(tmp_path, "--ckpt_path", ckpt, "--trainer.limit_predict_batches", "1", subcommand="predict")
    )
    out = cli.trainer.predict_loop.predictions[0]["output"]
    assert out.shape == (4, 3, 32, 32)


def test_layered_configs_and_flags_override(tmp_path):
    cli = main(
        [
            *tiny_args(tmp_path, "--model.loss.init_args.adversarial", "hinge", "--data.batch_size", "2"),
            "--trainer.max_steps",
            "1",
        ]
    )
    assert cli.model.loss.adversarial == "hinge"
    assert cli.datamodule.batch_size == 2
    assert cli.model.generator.size_multiple == 4  # from tiny.yaml layered over gan.yaml


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "inpaint_lightning", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_missing_data_root_is_one_clear_message(tmp_path, capsys):
    """In-process (a subprocess only adds the interpreter's start; the console script has its own test)."""
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", "--config", str(GAN_YAML), "--data.root", str(tmp_path / "nowhere")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert (
        err.strip().splitlines()[-1] == f"error: data.root not found or not a folder: {tmp_path / 'nowhere'}"
    )
    assert "Traceback" not in err


FIT = ["fit", "--config", str(GAN_YAML)]


@pytest.fixture
def as_module(monkeypatch):
    """sys.argv as under ``python -m inpaint_lightning`` (what usage lines then name), without pytest's options."""
    monkeypatch.setattr(sys, "argv", [str(ROOT / "inpaint_lightning" / "__main__.py")])


@pytest.mark.parametrize(
    ("extra", "named", "suggestion"),
    [
        (["--model.generator.init_args.n_blokcs", "9"], "n_blokcs", "--model.generator.init_args.n_blocks"),
        (["--trainer.max_stpes", "5"], "max_stpes", "--trainer.max_steps"),
        (["--config", "my.yaml"], "max_stpes", "trainer.max_steps"),  # a config file's key: named as a key
        (["--data.batch_size", "many"], "batch_size", None),  # a wrong type: nothing to suggest
    ],
)
def test_usage_error_is_one_line_and_a_suggestion_not_the_usage(
    tmp_path, monkeypatch, capsys, as_module, extra, named, suggestion
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "my.yaml").write_text("trainer:\n  max_stpes: 5\n")
    with pytest.raises(SystemExit) as exit_info:
        main([*FIT, *extra])
    assert exit_info.value.code == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("error: ") and named in lines[0]
    assert lines[1:] == [
        *([f"did you mean {suggestion}?"] if suggestion else []),
        "(python -m inpaint_lightning fit --help for all options)",
    ]
    assert list(tmp_path.iterdir()) == [tmp_path / "my.yaml"]  # failed before anything was written


def test_mistyped_standalone_option_suggests_the_close_one(capsys, as_module):
    with pytest.raises(SystemExit) as exit_info:
        main(["inpaint", "--imagse", "x"])  # argparse would report the missing --images instead
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.splitlines() == [
        "error: unrecognized arguments: --imagse",
        "did you mean --images?",
        "(python -m inpaint_lightning inpaint --help for all options)",
    ]


def test_usage_names_the_command_as_typed(monkeypatch, capsys, as_module):
    with pytest.raises(SystemExit):
        main(["fit", "--help"])
    assert capsys.readouterr().out.startswith("usage: python -m inpaint_lightning [options] fit ")
    monkeypatch.setattr(sys, "argv", [str(Path(sys.executable).parent / "inpaint-lightning")])
    with pytest.raises(SystemExit):
        main(["masks", "--help"])
    assert capsys.readouterr().out.startswith("usage: inpaint-lightning masks ")


def test_print_config_and_console_script(capsys):
    with pytest.raises(SystemExit) as exit_:  # in-process: the console script below is the subprocess
        main(["fit", "--config", str(GAN_YAML), "--print_config"])
    out = capsys.readouterr().out
    assert exit_.value.code in (0, None) and "FFCResNet" in out
    # auto_configure_optimizers is off: no top-level --optimizer/--lr_scheduler that would silently replace
    # the module's two optimizers
    top_level = {line.split(":")[0] for line in out.splitlines() if line and not line[0].isspace()}
    assert {"model", "data", "trainer", "checkpoint"} <= top_level
    assert not {"optimizer", "lr_scheduler"} & top_level
    script = Path(sys.executable).parent / "inpaint-lightning"
    assert script.exists()
    help_out = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=120)
    assert help_out.returncode == 0 and "fit" in help_out.stdout
    assert "usage: inpaint-lightning " in help_out.stdout  # the command as typed, not __main__.py


def test_ddp_two_processes_on_cpu(tmp_path):
    args = tiny_args(
        tmp_path,
        "--trainer.strategy",
        "ddp",
        "--trainer.devices",
        "2",
        "--trainer.max_steps",
        "3",
        "--trainer.val_check_interval",
        "3",
    )
    result = _run(args, ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Starting with 2 processes" in result.stdout + result.stderr
    state = torch.load(tmp_path / "ckpt" / "last.ckpt", map_location="cpu", weights_only=False)
    assert state["global_step"] == 3


def test_resume_gives_the_same_weights_as_a_straight_run(tmp_path):
    straight = main(
        tiny_args(tmp_path / "a", "--trainer.max_steps", "6", "--trainer.limit_train_batches", "4")
    )
    main(
        tiny_args(
            tmp_path / "b",
            "--trainer.max_steps",
            "3",
            "--trainer.limit_train_batches",
            "4",
            "--checkpoint.every_n_train_steps",
            "3",
        )
    )
    resumed = main(
        tiny_args(
            tmp_path / "b",
            "--trainer.max_steps",
            "6",
            "--trainer.limit_train_batches",
            "4",
            "--ckpt_path",
            "last",
        )
    )
    assert resumed.trainer.global_step == 6
    for net in ("generator", "discriminator"):
        a = getattr(straight.model, net).state_dict()
        b = getattr(resumed.model, net).state_dict()
        for key in a:
            torch.testing.assert_close(a[key], b[key], rtol=1e-5, atol=1e-6, msg=f"{net}.{key}")
    # and both optimizers really resumed: Adam's step counters continued from 3
    for opt in resumed.trainer.optimizers:
        assert next(iter(opt.state.values()))["step"].item() == 6


def test_checkpoint_alone_rebuilds_the_trained_model(tmp_path):
    cli = main(tiny_args(tmp_path))
    from inpaint_lightning.module import GANModule

    loaded = GANModule.load_from_checkpoint(tmp_path / "ckpt" / "last.ckpt", map_location="cpu")
    assert (
        loaded.generator.size_multiple == cli.model.generator.size_multiple == 4
    )  # tiny.yaml: 2 downsamplings
    for key, value in cli.model.generator.state_dict().items():
        torch.testing.assert_close(loaded.generator.state_dict()[key], value)


def test_checkpointing_can_be_turned_off(tmp_path):
    cli = main(tiny_args(tmp_path, "--trainer.enable_checkpointing", "false", "--trainer.max_steps", "1"))
    assert cli.trainer.checkpoint_callback is None
    assert not (tmp_path / "ckpt").exists()


def test_last_checkpoint_follows_every_validation_even_without_improvement(tmp_path):
    # Monitoring `step` in min mode: only the first validation is ever "best". Lightning's own save_last would
    # then leave last.ckpt at step 2; resuming must start from step 4.
    main(tiny_args(tmp_path, "--checkpoint.monitor", "step", "--checkpoint.mode", "min"))
    ckpts = {p.name: torch.load(p, weights_only=False)["global_step"] for p in (tmp_path / "ckpt").iterdir()}
    assert ckpts["last.ckpt"] == 4
    assert sorted(v for k, v in ckpts.items() if k != "last.ckpt") == [2]
