"""What reaches the loggers: W&B offline (default) and CSV, with panels and the resolved config."""

import yaml
from conftest import tiny_args
from PIL import Image

from inpaint_lightning.cli import main


def test_wandb_offline_run_gets_image_panels(tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "offline")
    main(
        tiny_args(
            tmp_path,
            "--trainer.logger",
            "lightning.pytorch.loggers.WandbLogger",
            "--trainer.logger.init_args.offline",
            "true",
            "--trainer.logger.init_args.project",
            "test",
        )
    )
    runs = list((tmp_path / "logs" / "wandb").glob("offline-run-*"))
    assert len(runs) == 1
    panels = sorted((runs[0] / "files" / "media" / "images" / "val").glob("panel_*.png"))
    assert len(panels) == 2  # one per validation (sanity check excluded)
    width, height = Image.open(panels[0]).size
    assert width > 4 * 32 and height > 4 * 32  # 4 columns, one row per validation sample (4 here)


def test_resolved_config_is_sent_to_the_logger(tmp_path):
    main(tiny_args(tmp_path))
    hparams = next((tmp_path / "logs").rglob("hparams.yaml"))
    logged = yaml.safe_load(hparams.read_text())["config"]
    assert logged["model"]["generator"]["class_path"] == "inpaint_lightning.models.FFCResNet"
    assert logged["data"]["image_size"] == 32 and logged["trainer"]["max_steps"] == 4


def test_panel_rows_are_masked_output_clean_for_fixed_samples(tmp_path):
    main(tiny_args(tmp_path, "--trainer.max_steps", "4"))
    first, second = sorted((tmp_path / "logs").rglob("panels/*.png"))
    a, b = Image.open(first), Image.open(second)
    assert a.size == b.size
    # Columns: masked input | telea | output | clean. The clean (right) and Telea columns show the same
    # validation samples at both validations; the output column is the model's and changes.
    w, h = a.size
    quarter = [(i * w // 4 + 1, 0, (i + 1) * w // 4 - 1, h) for i in range(4)]
    assert a.crop(quarter[3]).tobytes() == b.crop(quarter[3]).tobytes()
    assert a.crop(quarter[1]).tobytes() == b.crop(quarter[1]).tobytes()
    assert a.crop(quarter[2]).tobytes() != b.crop(quarter[2]).tobytes()


def test_tensorboard_logger_gets_panels_as_images(tmp_path):
    main(
        tiny_args(
            tmp_path,
            "--trainer.logger",
            "lightning.pytorch.loggers.TensorBoardLogger",
            "--trainer.logger.init_args.save_dir",
            str(tmp_path / "tb"),
        )
    )
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(next((tmp_path / "tb").rglob("events.out.tfevents.*")).parent))
    events.Reload()
    assert "val/panel" in events.Tags()["images"]
    assert len(events.Images("val/panel")) == 2
    assert "train/g/loss" in events.Tags()["scalars"]
