"""What a newcomer's `make fit` runs: gan.yaml + first_run.yaml, and one overridden flag keeps the rest."""

import shlex
import subprocess

import pytest
import yaml
from conftest import ROOT

from inpaint_lightning.cli import main


def _make_fit_command(*make_args: str) -> list[str]:
    out = subprocess.run(
        ["make", "-n", "fit", *make_args], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    line = next(line for line in out.splitlines() if "inpaint_lightning fit" in line)
    return shlex.split(line)[shlex.split(line).index("fit") :]


def _resolved(argv: list[str], capsys) -> dict:
    with pytest.raises(SystemExit) as exit_:
        main([*argv, "--print_config"])
    assert exit_.value.code in (0, None)
    return yaml.safe_load(capsys.readouterr().out)


def test_make_fit_overriding_one_flag_keeps_the_first_run_settings(capsys):
    argv = _make_fit_command("FIT_ARGS=--trainer.max_steps 2000")
    assert argv.count("--config") == 2 and argv[-2:] == ["--trainer.max_steps", "2000"]
    config = _resolved([a.replace("configs/", f"{ROOT}/configs/") for a in argv], capsys)
    first_run = yaml.safe_load((ROOT / "configs" / "first_run.yaml").read_text())
    assert config["trainer"]["max_steps"] == 2000  # the override ...
    assert config["data"]["image_size"] == first_run["data"]["image_size"] == 64  # ... keeps the rest
    assert config["trainer"]["val_check_interval"] == first_run["trainer"]["val_check_interval"]
    assert config["model"]["val_baseline"] == "telea"
