"""What a W&B user gets: the offline run's own records read back (summary with best values, panels, the
hole-ratio table, the config), log_model only online, and the sweep file run the way `wandb agent` runs it."""

from __future__ import annotations

import json
import struct
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import GAN_YAML, ROOT, TINY_YAML, tiny_args
from PIL import Image

from inpaint_lightning.cli import CLI, main
from inpaint_lightning.loggers import WandbLogger

SWEEPS = sorted((ROOT / "configs" / "sweeps").glob("*.yaml"))


# ------------------------------------------------------------------------------------- reading a .wandb file
def wandb_records(path: Path):
    """The protobuf records of a ``run-*.wandb`` file (LevelDB log format: 32 KiB blocks of chunks, each with a
    7-byte header: CRC32C, length, type full/first/middle/last; the file starts with ``:W&B`` + magic + version).
    """
    from wandb.proto import wandb_internal_pb2 as pb

    data = path.read_bytes()
    assert data[:4] == b":W&B", "not a W&B run file"
    pos, block, parts = 7, 32768, b""
    while pos + 7 <= len(data):
        if block - pos % block < 7:  # block trailer too small for a header: zero padding
            pos += block - pos % block
            continue
        _crc, length, kind = struct.unpack("<IHB", data[pos : pos + 7])
        payload = data[pos + 7 : pos + 7 + length]
        pos += 7 + length
        if kind == 0:  # preallocated, unwritten space
            break
        parts = payload if kind in (1, 2) else parts + payload
        if kind in (1, 4):  # full record, or the last chunk of one
            record = pb.Record()
            record.ParseFromString(parts)
            yield record


def _item_key(item) -> str:
    return item.key or "/".join(item.nested_key)


def read_offline_run(run_dir: Path) -> dict:
    """``{"history": [row, ...], "summary": {...}, "config": {...}, "artifacts": [type, ...], "metrics": [...]}``
    with values decoded from JSON (nested keys joined with "/" in history, kept nested in the summary)."""
    (file,) = run_dir.glob("run-*.wandb")
    out: dict = {"history": [], "summary": {}, "config": {}, "artifacts": [], "metrics": []}
    for record in wandb_records(file):
        kind = record.WhichOneof("record_type")
        if kind == "history":
            out["history"].append({_item_key(i): json.loads(i.value_json) for i in record.history.item})
        elif kind == "summary":
            for item in record.summary.update:
                keys = list(item.nested_key) or [item.key]
                target = out["summary"]
                for key in keys[:-1]:
                    target = target.setdefault(key, {})
                target[keys[-1]] = json.loads(item.value_json)
        elif kind == "config":
            out["config"].update({_item_key(i): json.loads(i.value_json) for i in record.config.update})
        elif kind == "artifact":
            out["artifacts"].append(record.artifact.type)
        elif kind == "metric":
            out["metrics"].append(record.metric)
    return out


# ------------------------------------------------------------------------------------------------ the run
@pytest.fixture(scope="module")
def offline_run(tmp_path_factory):
    """A tiny fit with the default W&B logger (offline), LPIPS on, 3 validations of 8 samples."""
    import wandb

    if wandb.run is not None:  # a run left open by an earlier test would be reused by the new logger
        wandb.finish()
    tmp_path = tmp_path_factory.mktemp("wandb")
    cli = main(
        tiny_args(
            tmp_path,
            "--trainer.logger", "inpaint_lightning.loggers.WandbLogger",
            "--trainer.logger.init_args.offline", "true",
            "--trainer.logger.init_args.log_model", "true",
            "--trainer.logger.init_args.project", "test",
            "--trainer.max_steps", "6",
            "--model.lpips", "alex",
        )
    )  # fmt: skip
    cli.trainer.logger.experiment.finish()
    (run_dir,) = (tmp_path / "logs" / "wandb").glob("offline-run-*")
    _wait_until_written(run_dir)
    return cli, run_dir, read_offline_run(run_dir)


def _wait_until_written(run_dir: Path, timeout: float = 60.0) -> None:
    """wandb-core writes the run file in its own process: wait for the exit record and a stable size."""
    (file,) = run_dir.glob("run-*.wandb")
    deadline, size = time.monotonic() + timeout, -1
    while time.monotonic() < deadline:
        done = any(r.WhichOneof("record_type") == "exit" for r in wandb_records(file))
        if done and file.stat().st_size == size:
            return
        size = file.stat().st_size
        time.sleep(0.5)
    raise AssertionError(f"{file} has no exit record after {timeout} s")


def test_summary_keeps_best_val_lpips_min_and_psnr_max(offline_run):
    _, _, run = offline_run
    validations = [row for row in run["history"] if "val/lpips" in row]
    assert len(validations) == 3
    lpips = [row["val/lpips"] for row in validations]
    psnr = [row["val/psnr"] for row in validations]
    summary = run["summary"]
    assert summary["val/lpips"]["min"] == pytest.approx(min(lpips))
    assert summary["val/lpips"]["last"] == pytest.approx(lpips[-1])
    assert summary["val/psnr"]["max"] == pytest.approx(max(psnr))
    assert summary["val/psnr"]["last"] == pytest.approx(psnr[-1])
    assert set(summary["val/ssim"]) == {"max", "last"}
    # still plotted against trainer/global_step, like every other metric
    defined = {m.name: m for m in run["metrics"] if m.name}
    assert defined["val/lpips"].step_metric == "trainer/global_step"
    assert defined["val/lpips"].summary.min and defined["val/psnr"].summary.max


def test_image_panels_show_the_same_samples_at_every_validation(offline_run):
    _, run_dir, run = offline_run
    rows = [row for row in run["history"] if "val/panel/filenames" in row]
    assert len(rows) == 3
    files = [run_dir / "files" / row["val/panel/filenames"][0] for row in rows]
    images = [np.asarray(Image.open(f).convert("RGB")).astype(np.float32) for f in files]
    assert all(img.shape == images[0].shape for img in images)
    height, width = images[0].shape[:2]
    assert (
        height > 8 * 32 and width > 4 * 32
    )  # 8 rows (samples) x 4 columns (masked | telea | output | clean)
    clean = [img[:, 3 * width // 4 + 1 :] for img in images]  # the right column: clean validation images
    assert clean[0].mean() > 40, "panel is (nearly) black: pixels must reach W&B as 0-255"
    assert all(np.array_equal(clean[0], c) for c in clean[1:])


def test_hole_ratio_table_is_logged_at_every_validation(offline_run):
    _, run_dir, run = offline_run
    rows = [row for row in run["history"] if row.get("val/hole_buckets/_type") == "table-file"]
    assert len(rows) == 3
    table = json.loads((run_dir / "files" / rows[-1]["val/hole_buckets/path"]).read_text())
    assert table["columns"][:3] == ["bucket", "count", "hole_ratio"]
    assert {"psnr", "ssim", "l1_hole"} <= set(table["columns"])
    records = [dict(zip(table["columns"], r, strict=True)) for r in table["data"]]
    overall = records[-1]
    assert overall["bucket"] == "all" and overall["count"] == 8  # limit_val_batches 2 x batch 4
    assert sum(r["count"] for r in records[:-1]) == 8
    assert all(r["bucket"] in {f"{10 * i:02d}-{10 * i + 10:02d}" for i in range(10)} for r in records[:-1])
    # the table's overall PSNR is the logged val/psnr (both: mean of per-image PSNR)
    last_val = [row for row in run["history"] if "val/psnr" in row][-1]
    assert overall["psnr"] == pytest.approx(last_val["val/psnr"], abs=1e-3)


def test_config_reaches_wandb_and_no_model_artifact_offline(offline_run):
    cli, _, run = offline_run
    config = run["config"]["config"]
    assert config["trainer"]["max_steps"] == 6
    assert config["model"]["generator"]["class_path"] == "inpaint_lightning.models.FFCResNet"
    assert "model" not in run["artifacts"]  # tables are artifacts too; checkpoints are not, offline
    logger = cli.trainer.logger
    assert logger.requested_log_model is True and logger._log_model is False


def test_log_model_is_kept_online_and_dropped_offline(monkeypatch, tmp_path):
    monkeypatch.delenv("WANDB_MODE", raising=False)
    assert WandbLogger(save_dir=str(tmp_path), offline=False, log_model=True)._log_model is True
    assert WandbLogger(save_dir=str(tmp_path), offline=True, log_model="all")._log_model is False
    monkeypatch.setenv("WANDB_MODE", "offline")
    assert WandbLogger(save_dir=str(tmp_path), offline=False, log_model=True)._log_model is False


def test_default_config_has_the_dashboard_pieces():
    config = yaml.safe_load(GAN_YAML.read_text())
    logger = config["trainer"]["logger"]
    assert logger["class_path"] == "inpaint_lightning.loggers.WandbLogger"
    assert logger["init_args"]["log_model"] is True and logger["init_args"]["offline"] is True
    callbacks = {c["class_path"].rsplit(".", 1)[-1] for c in config["trainer"]["callbacks"]}
    assert {"ImagePanels", "BestMetricsSummary", "HoleBucketTable"} <= callbacks


# ------------------------------------------------------------------------------------------------- sweeps
def _agent_command(sweep: dict, params: dict) -> list[str]:
    """The command line `wandb agent` runs for one set of parameters (wandb_agent.Agent._command_run)."""
    from wandb.sdk.launch.sweeps import utils as sweep_utils

    command = {"args": {k: {"value": v} for k, v in params.items()}, "program": sweep["program"]}
    sweep_vars = sweep_utils.create_sweep_command_args(command)
    sweep_vars.update(interpreter=["python"], program=[command["program"]], env=["/usr/bin/env"])
    out: list[str] = []
    for chunk in sweep_utils.create_sweep_command(list(sweep["command"])):
        chunk = str(chunk)
        if chunk.startswith("${") and chunk.endswith("}"):  # a macro: replaced by its list (or nothing)
            out += sweep_vars.get(chunk[2:-1]) or []
        else:
            out.append(chunk)
    return out


def _pick(spec: dict, which: int) -> object:
    """One value of a parameter: its fixed value, a listed value, or a distribution's bound."""
    if "value" in spec:
        return spec["value"]
    if "values" in spec:
        return spec["values"][which % len(spec["values"])]
    return spec["min"] if which % 2 == 0 else spec["max"]


def test_there_is_a_sweep_file():
    assert SWEEPS


@pytest.mark.parametrize("path", SWEEPS, ids=lambda p: p.name)
def test_sweep_file_is_a_valid_sweep_config(path):
    sweep = yaml.safe_load(path.read_text())
    assert sweep["method"] in ("grid", "random", "bayes")
    assert sweep["metric"] == {"name": "val/lpips", "goal": "minimize"}
    assert sweep["program"] and "${args}" in sweep["command"]
    assert sweep["command"][:4] == ["${env}", "${interpreter}", "-m", "inpaint_lightning"]
    for name, spec in sweep["parameters"].items():
        kinds = [k for k in ("value", "values", "distribution") if k in spec]
        assert len(kinds) == 1, f"{name}: exactly one of value / values / distribution"
        if "distribution" in spec:
            assert spec["distribution"] in ("uniform", "log_uniform_values", "q_uniform", "int_uniform")
            assert 0 < spec["min"] < spec["max"]
    if "early_terminate" in sweep:
        assert sweep["early_terminate"]["type"] == "hyperband"


@pytest.mark.parametrize("which", [0, 1])
@pytest.mark.parametrize("path", SWEEPS, ids=lambda p: p.name)
def test_sweep_command_is_accepted_by_the_cli(path, which, monkeypatch, capsys):
    sweep = yaml.safe_load(path.read_text())
    params = {name: _pick(spec, which) for name, spec in sweep["parameters"].items()}
    command = _agent_command(sweep, params)
    assert command[:5] == ["/usr/bin/env", "python", "-m", "inpaint_lightning", "fit"]
    assert all(f"--{name}={value}" in command for name, value in params.items())
    monkeypatch.chdir(ROOT)  # the agent runs from the repository root (configs/gan.yaml is relative)
    with pytest.raises(SystemExit) as exit_info:
        main([*command[4:], "--print_config"])
    assert exit_info.value.code in (0, None)
    config = yaml.safe_load(capsys.readouterr().out)
    for name, value in params.items():
        node = config
        for key in name.split("."):
            node = node[key]
        assert node == pytest.approx(value), name
    assert config["trainer"]["logger"]["init_args"]["offline"] is False  # sweeps need the server


def test_sweep_runs_get_their_own_checkpoint_folder(monkeypatch, tmp_path):
    """Runs of one sweep agent share the working folder; each run's checkpoints and config go to its own W&B run
    folder, so two runs never mix their files."""
    monkeypatch.chdir(tmp_path)
    base = ["fit", "--config", str(GAN_YAML), "--config", str(TINY_YAML), "--trainer.max_steps", "1",
            "--trainer.limit_val_batches", "0", "--trainer.logger", "inpaint_lightning.loggers.WandbLogger",
            "--trainer.logger.init_args.save_dir", "null", "--trainer.logger.init_args.offline", "true",
            "--trainer.logger.init_args.project", "inpaint_lightning"]  # fmt: skip
    folders = []
    for _ in range(2):
        cli = main(base)
        run = tmp_path / "logs" / "inpaint_lightning" / str(cli.trainer.logger.version)
        assert (run / "checkpoints" / "last.ckpt").is_file() and (run / "config.yaml").is_file()
        folders.append(run)
        cli.trainer.logger.experiment.finish()
    assert folders[0] != folders[1]
    chosen = tmp_path / "mine"
    cli = CLI(run=False, args=[*base[1:], "--checkpoint.dirpath", str(chosen)])
    assert cli.trainer.checkpoint_callback.dirpath == str(chosen)  # an explicit folder is kept
