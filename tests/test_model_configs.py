"""Every shipped model/extra config trains end to end from the CLI (two steps at 32 px) and its checkpoint alone
rebuilds the generator that was evaluated."""

import importlib
import inspect
import math

import pytest
import torch
import yaml
from conftest import GAN_YAML, ROOT, tiny_args

from inpaint_lightning.checkpoint import load_generator
from inpaint_lightning.cli import main
from inpaint_lightning.errors import StartupError

CONFIGS = sorted((ROOT / "configs" / "models").glob("*.yaml")) + sorted(
    (ROOT / "configs" / "extras").glob("*.yaml")
)


def test_model_configs_spell_out_every_generator_argument_shared_with_the_default():
    """Layered configs keep init_args of the previous class that the new class also accepts (jsonargparse), so
    a model config that leaves out e.g. ``dilations`` or ``prefill`` silently inherits the default's values."""
    base = yaml.safe_load(GAN_YAML.read_text())["model"]["generator"]
    for config in CONFIGS:
        generator = (yaml.safe_load(config.read_text()).get("model") or {}).get("generator")
        if not generator or generator.get("class_path", base["class_path"]) == base["class_path"]:
            continue  # the default's class with other init_args: nothing is inherited by accident
        module, _, name = generator["class_path"].rpartition(".")
        params = inspect.signature(getattr(importlib.import_module(module), name)).parameters
        shared = set(base["init_args"]) & set(params)
        missing = shared - set(generator.get("init_args") or {})
        assert not missing, f"{config.name} must set {sorted(missing)}"


def test_there_is_a_config_per_generator():
    names = {p.stem for p in CONFIGS}
    assert {
        "lama_fourier",
        "lama_small",
        "deepfill_v2",
        "pconv",
        "aot",
        "diffaugment",
        "multiscale_d",
    } <= names


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.stem)
def test_config_trains_two_steps_and_rebuilds_from_checkpoint(tmp_path, config):
    torch.manual_seed(0)
    cli = main(
        tiny_args(
            tmp_path,
            "--config", str(config),
            "--data.image_size", "32",
            "--data.batch_size", "2",
            "--trainer.max_steps", "2",
            "--trainer.val_check_interval", "2",
            "--trainer.limit_val_batches", "1",
        )
    )  # fmt: skip
    assert cli.trainer.global_step == 2
    wanted = yaml.safe_load(config.read_text())["model"]
    for part in ("generator", "discriminator"):
        if "class_path" in wanted.get(part, {}):  # the config's own class, not tiny.yaml's
            assert type(getattr(cli.model, part)).__name__ == wanted[part]["class_path"].rsplit(".", 1)[-1]
    logged = cli.trainer.logged_metrics
    assert all(math.isfinite(float(v)) for v in logged.values()), logged
    assert math.isfinite(float(cli.trainer.callback_metrics["val/psnr"]))

    rebuilt = load_generator(tmp_path / "ckpt" / "last.ckpt")
    x = torch.rand(1, 3, 40, 36)
    m = torch.zeros(1, 1, 40, 36)
    m[..., 10:30, 8:20] = 1
    inp = torch.cat([x * (1 - m), m], 1)
    with torch.no_grad():
        expected = cli.model.inference_generator.eval()(inp)
        torch.testing.assert_close(rebuilt(inp), expected)


def test_load_generator_rejects_missing_and_foreign_files(tmp_path):
    with pytest.raises(StartupError, match="not found"):
        load_generator(tmp_path / "none.ckpt")
    torch.save({"state_dict": {}, "hyper_parameters": {}}, tmp_path / "foreign.ckpt")
    with pytest.raises(StartupError, match="class_path"):
        load_generator(tmp_path / "foreign.ckpt")


def test_fourier_model_trains_under_bf16_mixed(tmp_path):
    """FFT has no bf16 kernels: the Fourier units must switch autocast off, or this step fails."""
    cli = main(
        tiny_args(
            tmp_path,
            "--config", str(ROOT / "configs" / "models" / "lama_small.yaml"),
            "--trainer.precision", "bf16-mixed",
            "--data.batch_size", "2",
            "--trainer.max_steps", "1",
            "--trainer.limit_val_batches", "0",
        )
    )  # fmt: skip
    assert cli.trainer.global_step == 1
    assert all(math.isfinite(float(v)) for v in cli.trainer.logged_metrics.values())
