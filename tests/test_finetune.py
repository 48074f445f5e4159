"""Fine-tuning from a checkpoint and distilling a student from a frozen teacher: the tests' tiny runs, with the
tiny inpainting checkpoint of tests/fixtures/legacy as the source and the teacher."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
from conftest import tiny_args

from inpaint_lightning.checkpoint import file_sha256, load_checkpoint, read_source
from inpaint_lightning.cli import main
from inpaint_lightning.losses import DistillationLoss

SOURCE = Path(__file__).parent / "fixtures" / "legacy" / "inpaint_tiny.ckpt"


def _val(cli) -> dict[str, float]:
    return {k: float(v) for k, v in cli.trainer.callback_metrics.items() if k.startswith("val/")}


def test_validation_at_step_zero_is_the_source_models_own(tmp_path):
    source = main(tiny_args(tmp_path / "a", "--ckpt_path", str(SOURCE), subcommand="validate"))
    started = main(tiny_args(tmp_path / "b", "--model.init_from", str(SOURCE), subcommand="validate"))
    assert _val(started) == _val(source) and "val/l1_hole" in _val(started)


def test_a_fine_tune_warms_up_the_discriminator_keeps_batchnorm_statistics_and_records_its_source(tmp_path):
    source = read_source(SOURCE)
    cli = main(tiny_args(tmp_path, "--model.init_from", str(SOURCE), "--model.freeze_batchnorm", "true",
                         "--model.loss.init_args.discriminator_warmup", "3", "--trainer.max_steps", "4"))  # fmt: skip
    model = cli.model
    assert cli.trainer.global_step == 4
    g_opt, d_opt = cli.trainer.optimizers
    assert next(iter(g_opt.state.values()))["step"].item() == 1  # batch 3 only
    assert next(iter(d_opt.state.values()))["step"].item() == 4
    stats = {n: b for n, b in model.generator.named_buffers() if "running_" in n}
    assert stats and all(torch.equal(b, source.generator_state[n]) for n, b in stats.items())  # frozen
    conv = next(n for n, p in model.generator.named_parameters() if p.dim() == 4)
    assert not torch.equal(
        model.generator.state_dict()[conv], source.generator_state[conv]
    )  # G moved at batch 3
    saved = load_checkpoint(tmp_path / "ckpt" / "last.ckpt")
    assert saved["initialised_from"] == {"path": str(SOURCE), "sha256": file_sha256(SOURCE)}


def test_a_fine_tune_resumes_without_its_source_and_a_wrong_architecture_is_one_line(tmp_path, capsys):
    copy = tmp_path / "src.ckpt"
    shutil.copy(SOURCE, copy)
    main(tiny_args(tmp_path / "run", "--model.init_from", str(copy), "--trainer.max_steps", "2"))
    copy.unlink()  # the run's own checkpoint holds the weights now
    resumed = main(tiny_args(tmp_path / "run", "--model.init_from", str(copy), "--trainer.max_steps", "3",
                             "--ckpt_path", "last"))  # fmt: skip
    assert resumed.trainer.global_step == 3
    with pytest.raises(SystemExit) as stop:
        main(tiny_args(tmp_path / "bad", "--model.init_from", str(SOURCE),
                       "--model.generator.init_args.base_channels", "12"))  # fmt: skip
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "holds a different generator: set --model.generator" in err and '"base_channels": 8' in err


def _distil(tmp_path: Path, steps: int, *extra: str):
    return main(tiny_args(tmp_path, "--model.loss", "inpaint_lightning.losses.DistillationLoss",
                          "--model.loss.init_args.teacher", str(SOURCE), "--model.loss.init_args.lpips_vgg", "0",
                          "--model.loss.init_args.teacher_min_side", "8", "--trainer.max_steps", str(steps),
                          *extra))  # fmt: skip


def test_distillation_trains_against_a_frozen_teacher_that_stays_out_of_the_checkpoint(tmp_path):
    cli = _distil(tmp_path, 2)
    loss = cli.model.loss
    assert isinstance(loss, DistillationLoss) and not loss.teacher.training
    assert all(not p.requires_grad for p in loss.teacher.parameters())
    teacher = read_source(SOURCE).generator_state
    assert all(torch.equal(v, teacher[k]) for k, v in loss.teacher.state_dict().items())  # untouched
    logged = cli.trainer.logged_metrics
    assert "train/g/teacher_l1" in logged and "train/g/l1_hole" in logged
    saved = load_checkpoint(tmp_path / "ckpt" / "last.ckpt")
    assert not any("teacher" in k and k != "loss._extra_state" for k in saved["state_dict"])
    assert saved["state_dict"]["loss._extra_state"]["teacher_sha256"] == file_sha256(SOURCE)
    assert saved["hyper_parameters"]["loss"]["init_args"]["teacher"] == str(SOURCE)


def test_a_distillation_run_resumes_exactly(tmp_path):
    straight = _distil(tmp_path / "a", 4, "--trainer.limit_train_batches", "4")
    _distil(tmp_path / "b", 2, "--trainer.limit_train_batches", "4", "--checkpoint.every_n_train_steps", "2")
    resumed = _distil(tmp_path / "b", 4, "--trainer.limit_train_batches", "4", "--ckpt_path", "last")
    for a, b in zip(straight.model.generator.parameters(), resumed.model.generator.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


@pytest.mark.parametrize("recipe, source", [("lama", "lama_small.ckpt"), ("migan", "migan_small.pt")])
def test_the_finetune_recipes_start_from_published_files(tmp_path, recipe, source):
    """configs/finetune/*.yaml on the published-format fixtures (LaMa's best.ckpt, MI-GAN's .pt; reduced sizes,
    so the generator is set to the file's own architecture, as the start-up error tells a user to)."""
    import json

    path = Path(__file__).parent / "fixtures" / "published" / source
    args = tiny_args(tmp_path, "--config", str(Path(__file__).parents[1] / "configs" / "finetune" / f"{recipe}.yaml"),
                     "--config", str(Path(__file__).parent / "configs" / "tiny.yaml"),
                     "--model.generator", json.dumps(dict(read_source(path).generator)), "--model.init_from",
                     str(path), "--model.loss.init_args.discriminator_warmup", "1", "--trainer.max_steps", "2",
                     "--data.image_size", "64")  # fmt: skip
    cli = main(args)
    assert cli.trainer.global_step == 2 and cli.model.source["sha256"] == file_sha256(path)
    source = read_source(path).generator_state  # one Adam step at 1e-4 away from the file's weights
    moved = {k: float((v - source[k]).abs().max()) for k, v in cli.model.generator.state_dict().items()
             if v.is_floating_point() and "running_" not in k}  # fmt: skip
    assert max(moved.values()) <= 1e-3 and max(moved.values()) > 0


def test_the_sources_discriminator_is_used_only_when_it_fits(tmp_path):
    source = read_source(SOURCE)
    same = main(tiny_args(tmp_path / "same", "--model.init_from", str(SOURCE), "--trainer.max_steps", "1",
                          "--model.d_optimizer.init_args.lr", "0"))  # fmt: skip
    weights = dict(
        same.model.discriminator.named_parameters()
    )  # spectral norm's buffers move with every call
    assert all(torch.equal(p, source.discriminator_state[k]) for k, p in weights.items())
    other = main(tiny_args(tmp_path / "other", "--model.init_from", str(SOURCE), "--trainer.max_steps", "1",
                           "--model.discriminator.init_args.base_channels", "12"))  # fmt: skip
    first = next(p for p in other.model.discriminator.parameters() if p.dim() == 4)
    assert (
        first.shape[0] == 12
    )  # another architecture: a fresh discriminator of its own shape, and the run goes on
