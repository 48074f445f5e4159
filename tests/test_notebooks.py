"""The notebooks run top to bottom (as Jupyter runs them: kernel `python3`, cwd notebooks/) and are committed
without outputs."""

from __future__ import annotations

import os
import subprocess
import sys

import nbformat
import pytest
from conftest import ROOT
from nbclient import NotebookClient

NOTEBOOKS = ROOT / "notebooks"
NAMES = [
    "01_data_and_masks.ipynb",
    "02_train_and_monitor.ipynb",
    "03_inference_and_evaluation.ipynb",
    "04_restoration.ipynb",
]


def test_the_four_notebooks_are_there():
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == NAMES


@pytest.mark.parametrize("name", sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")))
def test_committed_notebook_has_no_outputs(name):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(nb)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{name} cell {i} has outputs: run `make strip-notebooks`"
            assert cell.execution_count is None, f"{name} cell {i} has an execution count"
            assert "execution" not in cell.metadata, f"{name} cell {i} has run metadata"
    assert nb.metadata["kernelspec"]["name"] == "python3"


def test_strip_check_flags_outputs(tmp_path):
    nb = nbformat.read(NOTEBOOKS / NAMES[0], as_version=4)
    code = next(c for c in nb.cells if c.cell_type == "code")
    code.outputs = [nbformat.v4.new_output("stream", name="stdout", text="hello\n")]
    code.execution_count = 3
    path = tmp_path / "dirty.ipynb"
    nbformat.write(nb, path)
    script = [sys.executable, str(ROOT / "scripts" / "strip_notebooks.py")]
    assert subprocess.run([*script, "--check", str(path)], capture_output=True).returncode == 1
    assert subprocess.run([*script, str(path)], capture_output=True).returncode == 0
    assert subprocess.run([*script, "--check", str(path)], capture_output=True).returncode == 0
    assert nbformat.read(path, as_version=4) == nbformat.read(NOTEBOOKS / NAMES[0], as_version=4)


@pytest.mark.timeout(600)
@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_top_to_bottom(name, tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("INPAINT_NOTEBOOK_OUT", str(tmp_path))  # default: <repo>/logs/notebooks
    # The notebooks' 64 px networks gain little from a second thread, and on a shared runner OpenMP's barrier
    # waits make two threads several times slower than one.
    monkeypatch.setenv("OMP_NUM_THREADS", os.environ.get("OMP_NUM_THREADS", "1"))
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
    )
    client.execute()  # raises CellExecutionError with the cell and its traceback on any failure

    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    figures = sum("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))
    assert figures >= {"01": 10, "02": 2, "03": 1, "04": 3}[name[:2]]
    text = "".join(
        o.get("text", "") + o.get("data", {}).get("text/markdown", "")
        for c in nb.cells
        for o in c.get("outputs", [])
    )
    if name.startswith("02"):
        assert "val/hole_buckets" in text and "| all |" in text
        runs = list((tmp_path / "02_train" / "wandb").glob("offline-run-*"))
        assert len(runs) == 1 and list(runs[0].glob("run-*.wandb"))
        assert len(list((runs[0] / "files" / "media" / "images" / "val").glob("panel_*.png"))) == 3
    if name.startswith("03"):
        assert (tmp_path / "03_inference" / "checkpoints" / "last.ckpt").is_file()
        assert "### model" in text and "### telea" in text
    if name.startswith("04"):
        assert (tmp_path / "04_restoration" / "ckpt" / "last.ckpt").is_file()
        assert "'input': (3, 64, 64)" in text  # the task-neutral sample
    assert not list(NOTEBOOKS.glob("logs")), "notebooks must write under INPAINT_NOTEBOOK_OUT"
