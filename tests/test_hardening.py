"""Training that loses nothing: atomic checkpoints, trusted loads, one-line failures, NaN stops, run folders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
from conftest import GAN_YAML, TINY_YAML, tiny_args

from inpaint_lightning.checkpoint import SafeCheckpointIO, load_trusted
from inpaint_lightning.cli import CLI, main
from inpaint_lightning.errors import StartupError

UNTRUSTED = "torch_fidelity.feature_extractor_inceptionv3.FeatureExtractorInceptionV3"


def _ckpt(step: int = 0, **hparams) -> dict:
    return {
        "state_dict": {"w": torch.full((2,), float(step))},
        "global_step": step,
        "hyper_parameters": hparams,
    }


def test_a_failed_save_leaves_the_previous_checkpoint_intact_and_no_temp_file(tmp_path, monkeypatch):
    io, path = SafeCheckpointIO(), tmp_path / "ckpt" / "last.ckpt"
    io.save_checkpoint(_ckpt(1), path)
    good = path.read_bytes()

    def dies_mid_write(obj, f, *args, **kwargs):
        f.write(b"partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", dies_mid_write)
    with pytest.raises(OSError, match="No space"):
        io.save_checkpoint(_ckpt(2), path)
    assert path.read_bytes() == good  # never truncated, never 0 bytes
    assert os.listdir(path.parent) == ["last.ckpt"]  # the temporary file (same folder) is gone


def test_saves_are_staged_in_the_checkpoint_folder(tmp_path, monkeypatch):
    staged = []
    real_replace = os.replace

    def spy(src, dst):
        staged.append(Path(src).parent)
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    SafeCheckpointIO().save_checkpoint(_ckpt(1), tmp_path / "last.ckpt")
    assert staged == [tmp_path]  # an atomic rename on one filesystem, not a copy from /tmp
    assert SafeCheckpointIO().load_checkpoint(tmp_path / "last.ckpt")["global_step"] == 1


def test_a_damaged_checkpoint_is_one_line_naming_the_newest_intact_one(tmp_path):
    io = SafeCheckpointIO()
    io.save_checkpoint(_ckpt(1), tmp_path / "step000001.ckpt")
    io.save_checkpoint(_ckpt(2), tmp_path / "last.ckpt")
    (tmp_path / "last.ckpt").write_bytes((tmp_path / "last.ckpt").read_bytes()[:200])
    with pytest.raises(StartupError) as err:
        load_trusted(tmp_path / "last.ckpt")
    message = str(err.value)
    assert "\n" not in message and "truncated" in message and "step000001.ckpt" in message


def test_untrusted_classes_in_hyperparameters_are_refused_before_import(tmp_path):
    SafeCheckpointIO().save_checkpoint(
        _ckpt(1, loss={"class_path": UNTRUSTED, "init_args": {}}), tmp_path / "x.ckpt"
    )
    with pytest.raises(StartupError, match="refusing to build 'torch_fidelity"):
        load_trusted(tmp_path / "x.ckpt")
    SafeCheckpointIO().save_checkpoint(_ckpt(1, _instantiator="os.system"), tmp_path / "y.ckpt")
    with pytest.raises(StartupError, match="instantiator"):
        load_trusted(tmp_path / "y.ckpt")
    # an optimizer or a network of this project or torch is fine
    fine = _ckpt(1, g_optimizer={"class_path": "torch.optim.Adam"}, loss={"class_path": "torch.nn.L1Loss"})
    SafeCheckpointIO().save_checkpoint(fine, tmp_path / "z.ckpt")
    assert load_trusted(tmp_path / "z.ckpt")["global_step"] == 1


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    tmp_path = tmp_path_factory.mktemp("trained")
    main(tiny_args(tmp_path))
    return tmp_path / "ckpt" / "last.ckpt"


@pytest.mark.parametrize("subcommand", ["fit", "validate", "test", "predict"])
def test_every_ckpt_path_refuses_a_crafted_checkpoint_in_one_line(tmp_path, trained, subcommand, capsys):
    ckpt = torch.load(trained, weights_only=True)
    ckpt["hyper_parameters"]["loss"] = {
        "class_path": UNTRUSTED,
        "init_args": {"feature_extractor_weights_path": str(tmp_path / "payload.pt")},
    }
    crafted = tmp_path / "crafted.ckpt"
    torch.save(ckpt, crafted)
    with pytest.raises(SystemExit) as exit_:
        main(tiny_args(tmp_path, "--ckpt_path", str(crafted), subcommand=subcommand))
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "refusing to build 'torch_fidelity" in err


def test_load_from_checkpoint_applies_the_same_policy(tmp_path, trained):
    from inpaint_lightning.module import GANModule

    ckpt = torch.load(trained, weights_only=True)
    ckpt["hyper_parameters"]["loss"] = {"class_path": UNTRUSTED, "init_args": {}}
    torch.save(ckpt, tmp_path / "crafted.ckpt")
    with pytest.raises(StartupError, match="refusing"):
        GANModule.load_from_checkpoint(tmp_path / "crafted.ckpt")
    assert isinstance(GANModule.load_from_checkpoint(trained), GANModule)


def test_resume_from_a_damaged_checkpoint_is_one_line(tmp_path, trained, capsys):
    damaged = tmp_path / "damaged.ckpt"
    damaged.write_bytes(trained.read_bytes()[:1000])
    with pytest.raises(SystemExit) as exit_:
        main(tiny_args(tmp_path, "--ckpt_path", str(damaged)))
    assert exit_.value.code == 2
    assert "damaged.ckpt: not a readable PyTorch checkpoint" in capsys.readouterr().err


def _run_args(root: Path, *extra: str) -> list[str]:
    """A tiny fit whose logger and checkpoints follow ``--trainer.default_root_dir`` (no fixed folders)."""
    return ["fit", "--config", str(GAN_YAML), "--config", str(TINY_YAML),
            "--trainer.default_root_dir", str(root), "--trainer.logger.init_args.save_dir", str(root), *extra]  # fmt: skip


def test_runs_get_their_own_folders_and_last_resumes_the_newest(tmp_path):
    root = tmp_path / "runs"
    first = main(_run_args(root))
    assert first.trainer.global_step == 4
    last = root / "lightning_logs" / "version_0" / "checkpoints" / "last.ckpt"
    assert last.is_file()
    second = main(_run_args(root, "--trainer.max_steps", "6", "--ckpt_path", "last"))
    assert second.trainer.global_step == 6  # resumed at 4 from the first run's folder, from a new process
    assert (root / "lightning_logs" / "version_1" / "checkpoints" / "last.ckpt").is_file()
    assert torch.load(last, weights_only=True)["global_step"] == 4  # the first run's files are its own

    # a damaged last.ckpt falls back to the newest intact checkpoint beside it, with a warning
    newest = root / "lightning_logs" / "version_1" / "checkpoints" / "last.ckpt"
    newest.write_bytes(b"")
    with pytest.warns(UserWarning, match="damaged"):
        third = main(_run_args(root, "--trainer.max_steps", "8", "--ckpt_path", "last"))
    assert third.trainer.global_step == 8


def test_the_default_logger_writes_under_default_root_dir(tmp_path):
    cli = CLI(
        args=["--config", str(GAN_YAML), "--config", str(TINY_YAML), "--trainer.default_root_dir", str(tmp_path),
              "--trainer.logger", "inpaint_lightning.loggers.WandbLogger",
              "--trainer.logger.init_args.save_dir", "null", "--trainer.logger.init_args.offline", "true"],
        run=False,
    )  # fmt: skip
    assert Path(cli.trainer.logger.save_dir) == tmp_path


def test_unwritable_or_full_checkpoint_folder_fails_at_start_in_one_line(tmp_path, capsys, monkeypatch):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    with pytest.raises(SystemExit) as exit_:
        main(tiny_args(tmp_path, "--checkpoint.dirpath", str(blocker / "ckpt")))
    assert exit_.value.code == 2
    assert "checkpoint folder" in capsys.readouterr().err and not list(tmp_path.rglob("*.ckpt"))

    import shutil

    monkeypatch.setattr(shutil, "disk_usage", lambda p: shutil._ntuple_diskusage(10**9, 10**9 - 1000, 1000))
    with pytest.raises(SystemExit) as exit_:
        main(tiny_args(tmp_path))
    assert exit_.value.code == 2
    assert "MiB free" in capsys.readouterr().err and not list(tmp_path.rglob("*.ckpt"))


def test_a_nan_loss_stops_the_run_and_keeps_the_last_good_checkpoint(tmp_path, capsys, monkeypatch):
    from inpaint_lightning.losses.inpainting import InpaintingLoss

    main(tiny_args(tmp_path))
    last = tmp_path / "ckpt" / "last.ckpt"
    before = last.read_bytes()
    real = InpaintingLoss.generator_loss

    def diverges(self, *args, **kwargs):
        total, logs = real(self, *args, **kwargs)
        return total * float("nan"), logs

    monkeypatch.setattr(InpaintingLoss, "generator_loss", diverges)
    with pytest.raises(SystemExit) as exit_:
        main(tiny_args(tmp_path, "--trainer.max_steps", "8", "--ckpt_path", str(last)))
    assert exit_.value.code == 1
    assert "non-finite generator loss at step 4" in capsys.readouterr().err
    assert last.read_bytes() == before  # nothing diverged was saved


def test_a_generator_from_your_own_package_loads_once_you_trust_it(tmp_path, monkeypatch):
    from inpaint_lightning.checkpoint import TRUSTED_ENV, load_generator, trust_modules, trusted_prefixes

    (tmp_path / "mylab_gens.py").write_text(
        "import torch\n\nclass MyGen(torch.nn.Module):\n"
        "    def __init__(self, width: int = 4):\n        super().__init__()\n"
        "        self.conv = torch.nn.Conv2d(4, 3, 3, padding=1)\n\n"
        "    def forward(self, x):\n        return self.conv(x)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    state = {f"generator.{k}": v for k, v in torch.nn.Conv2d(4, 3, 3, padding=1).state_dict().items()}
    state = {k.replace("generator.", "generator.conv."): v for k, v in state.items()}
    hparams = {"generator": {"class_path": "mylab_gens.MyGen", "init_args": {"width": 4}}}
    torch.save({"state_dict": state, "hyper_parameters": hparams}, tmp_path / "mine.ckpt")
    with pytest.raises(StartupError, match=f"refusing to build 'mylab_gens.MyGen'.*{TRUSTED_ENV}"):
        load_generator(tmp_path / "mine.ckpt")
    monkeypatch.setenv(TRUSTED_ENV, "mylab_gens, other.pkg")
    assert type(load_generator(tmp_path / "mine.ckpt")).__name__ == "MyGen"
    hparams["generator"]["class_path"] = "mylab_gensx.MyGen"  # a look-alike name stays refused
    torch.save({"state_dict": state, "hyper_parameters": hparams}, tmp_path / "other.ckpt")
    with pytest.raises(StartupError, match="refusing to build 'mylab_gensx.MyGen'"):
        load_generator(tmp_path / "other.ckpt")
    monkeypatch.delenv(TRUSTED_ENV)
    monkeypatch.setattr("inpaint_lightning.checkpoint._trusted_by_code", [])
    trust_modules("mylab_gens")
    assert "mylab_gens." in trusted_prefixes()
    assert type(load_generator(tmp_path / "mine.ckpt")).__name__ == "MyGen"
    with pytest.raises(ValueError, match="not a module name"):
        trust_modules("bad name")
