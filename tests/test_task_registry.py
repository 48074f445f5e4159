"""A task added from outside the package (colourisation: grey in, colour out) with one task class and one
corruption, no edit to the module, the CLI, the loaders, the export or the service: it trains, validates,
exports, loads in its inference class and is served."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient
from PIL import Image

from inpaint_lightning.checkpoint import load_generator_and_task
from inpaint_lightning.cli import main
from inpaint_lightning.commands import main_standalone
from inpaint_lightning.data.corruption import Corruption
from inpaint_lightning.inference import Inpainter, Restorer
from inpaint_lightning.tasks import TASKS, RestoreTask, inference_class, register_task, task_named

ROOT = Path(__file__).resolve().parents[1]


class GreyCorruption(Corruption):
    """The photo's luminance in all three channels."""

    task = "colorize"

    def __call__(self, image, rng, index, train, target=None):
        grey = (image * torch.tensor([0.299, 0.587, 0.114])[:, None, None]).sum(0, keepdim=True)
        return {"input": grey.expand(3, -1, -1).contiguous()}


class ColorizeTask(RestoreTask):
    name = "colorize"
    summary = "a colourisation model: use Restorer (or the restore command)"
    export_io = (
        "input 'input' B x 3 x H x W (grey RGB in [0, 1]); output 'output' B x 3 x H x W colour (clamp)"
    )


@pytest.fixture(scope="module")
def colorize_run(tmp_path_factory) -> Path:
    """The tests' tiny restoration run, as the colourisation task, 2 steps: its checkpoint."""
    register_task(ColorizeTask)
    tmp = tmp_path_factory.mktemp("colorize")
    cli = main(["fit", "--config", str(ROOT / "configs/tasks/denoise.yaml"), "--config",
                str(ROOT / "tests/configs/tiny_restore.yaml"), "--model.task", "colorize",
                "--data.corruption", '{"class_path": "test_task_registry.GreyCorruption"}',
                "--trainer.max_steps", "2", "--trainer.val_check_interval", "2",
                "--trainer.default_root_dir", str(tmp), "--trainer.logger.init_args.save_dir", str(tmp / "logs"),
                "--checkpoint.dirpath", str(tmp / "ckpt")])  # fmt: skip
    assert cli.trainer.global_step == 2 and cli.model.task.name == "colorize"
    assert {"val/psnr", "val/l1", "val/bicubic/psnr"} <= set(cli.trainer.callback_metrics)  # validated
    yield tmp / "ckpt" / "last.ckpt"
    TASKS.pop("colorize")


def test_registering_checks_what_it_is_given():
    with pytest.raises(TypeError):
        register_task(object)  # type: ignore[arg-type]

    class Other(RestoreTask):
        name = "restore"

    with pytest.raises(ValueError, match="already registered"):
        register_task(Other)
    with pytest.raises(ValueError, match="unknown task 'nope'; registered: inpaint"):
        task_named("nope")


def test_an_outside_task_loads_exports_and_is_served(colorize_run, tmp_path, capsys):
    generator, task = load_generator_and_task(colorize_run)
    assert task == "colorize" and inference_class(task) is Restorer
    restorer = Restorer.from_file(colorize_run)
    with pytest.raises(Exception, match="a colourisation model: use Restorer"):
        Inpainter.from_file(colorize_run)
    out = tmp_path / "colorize.onnx"
    assert (
        main_standalone(
            "export", ["--checkpoint", str(colorize_run), "--format", "onnx", "--output", str(out)]
        )
        == 0
    )
    assert "grey RGB" in capsys.readouterr().err  # the task's own export contract
    grey = Image.fromarray(np.full((40, 56, 3), 120, np.uint8))
    exported = np.asarray(Restorer.from_file(out)(grey), np.int16)
    assert np.abs(exported - np.asarray(restorer(grey), np.int16)).max() <= 1

    from inpaint_lightning.commands.serve import build_parser
    from inpaint_lightning.inference.options import models_from_args
    from inpaint_lightning.serving import create_app

    inpainter, restorers, detector = models_from_args(
        build_parser().parse_args(["--checkpoint", str(colorize_run)])
    )
    assert inpainter is None and detector is None and list(restorers) == ["last"]
    buffer = io.BytesIO()
    grey.save(buffer, "PNG")
    client = TestClient(create_app(None, restorers=restorers))
    response = client.post("/restore", files={"image": buffer.getvalue()}, data={"model": "last"})
    assert response.status_code == 200 and Image.open(io.BytesIO(response.content)).size == (56, 40)
    models = client.get("/health").json()["models"]  # the page offers it by its endpoint, named by its task
    assert [(m["task"], m["endpoint"]) for m in models] == [("colorize", "restore")]

    photos = tmp_path / "photos"  # `evaluate` runs it through its own task's input and output
    photos.mkdir()
    for i in range(2):
        Image.fromarray(np.random.default_rng(i).integers(0, 255, (48, 48, 3), np.uint8)).save(
            photos / f"{i}.png"
        )
    args = ["--images", str(photos), "--checkpoint", str(colorize_run), "--lpips", "off", "--quiet",
            "--workers", "0", "--output", str(tmp_path / "scores")]  # fmt: skip
    assert main_standalone("evaluate", [*args, "--degradation", "denoise15"]) == 0
    assert (tmp_path / "scores" / "metrics.json").is_file()
    assert main_standalone("evaluate", args) == 2  # image/mask pairs are not its protocol
    assert "a colourisation model: pass --degradation or --lq" in capsys.readouterr().err
