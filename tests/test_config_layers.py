"""Configs carry only their differences over inpaint_lightning/defaults.yaml (every run's start): each one still
resolves, for every key its spelled-out form set, to the same value (fixtures: the configs as they were written out
in full before the packaged defaults, tests/fixtures/configs_spelled_out/)."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest
import yaml

from inpaint_lightning.cli import main

ROOT = Path(__file__).resolve().parents[1]
SPELLED = Path(__file__).parent / "fixtures" / "configs_spelled_out"
SETS = {  # configs as run -> their spelled-out form (first_run.yaml did not change)
    "gan": (["configs/gan.yaml"], [SPELLED / "gan.yaml"]),
    "first_run": (
        ["configs/gan.yaml", "configs/first_run.yaml"],
        [SPELLED / "gan.yaml", ROOT / "configs" / "first_run.yaml"],
    ),
    **{
        f"tasks_{p.stem}": ([f"configs/tasks/{p.name}"], [SPELLED / f"tasks_{p.name}"])
        for p in sorted((ROOT / "configs" / "tasks").glob("*.yaml"))
    },
}


def _flat(value, prefix: str = "") -> dict:
    if isinstance(value, dict):
        return {k: v for key, sub in value.items() for k, v in _flat(sub, f"{prefix}{key}.").items()}
    if isinstance(value, list):
        return {k: v for i, sub in enumerate(value) for k, v in _flat(sub, f"{prefix}{i}.").items()}
    return {prefix.rstrip("."): value}


def _resolved(files: list[str]) -> dict:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        main(["fit", *[a for f in files for a in ("--config", str(ROOT / f))], "--print_config"])
    return _flat(yaml.safe_load(out.getvalue()))


@pytest.mark.parametrize("name", list(SETS))
def test_every_config_resolves_as_when_it_was_spelled_out(name):
    files, spelled = SETS[name]
    expected: dict = {}
    for f in spelled:  # later files win, key by key, as --config does
        expected.update(_flat(yaml.safe_load(f.read_text())))
    resolved = _resolved(files)
    assert {k: resolved.get(k, "<missing>") for k in expected} == expected


def test_task_configs_hold_only_their_differences():
    for path in sorted((ROOT / "configs" / "tasks").glob("*.yaml")):
        config = yaml.safe_load(path.read_text())
        assert "checkpoint" not in config and "seed_everything" not in config, path.name
        assert set(config["trainer"]) <= {"max_steps", "val_check_interval", "logger", "callbacks"}, path.name
