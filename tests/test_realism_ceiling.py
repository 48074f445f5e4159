"""scripts/realism_ceiling.py: oracle fills scored on realism.py's folders with evaluate's pairs and LPIPS."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT
from PIL import Image

SIZE = 64


def _script():
    sys.path.insert(0, str(ROOT / "scripts"))
    spec = importlib.util.spec_from_file_location("realism_ceiling", ROOT / "scripts" / "realism_ceiling.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def realism_out(tmp_path: Path) -> tuple[Path, Path]:
    """A realism.py output folder: 3 textured photos, 3 masks, and 'PatchMatch' outputs equal to the photos."""
    rng = np.random.default_rng(0)
    photos, masks = tmp_path / "out" / "eval_photos", tmp_path / "masks"
    outputs = tmp_path / "out" / f"eval_{SIZE}" / "patchmatch" / "outputs"
    for folder in (photos, masks, outputs):
        folder.mkdir(parents=True)
    for i in range(3):
        photo = rng.integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8)  # fine texture: blurring it costs LPIPS
        Image.fromarray(photo).save(photos / f"p{i}.png")
        Image.fromarray(photo).save(outputs / f"p{i}.png")
        mask = np.zeros((SIZE, SIZE), np.uint8)
        mask[8 : 8 + 16 * (i + 1), 8:40] = 255
        Image.fromarray(mask).save(masks / f"p{i}.png")
    return tmp_path / "out", masks


def test_oracles_on_a_perfect_fill(realism_out, one_thread):
    out, masks = realism_out
    script = _script()
    assert script.main(["--out", str(out), "--masks", str(masks), "--sizes", str(SIZE)]) == 0
    lpips = script.PerImageLPIPS("alex")
    patchmatch = out / f"eval_{SIZE}" / "patchmatch" / "outputs"
    values, count = script.score(out / "eval_photos", masks, patchmatch, SIZE, lpips)
    assert count == 3
    mean = {name: np.mean(per["all"]) for name, per in values.items()}
    # 'PatchMatch' here is the truth itself, so it and truth low + its high frequencies are perfect...
    assert mean["PatchMatch"] < 1e-6
    assert mean["truth low (4) + PatchMatch high"] < 1e-3
    # ... while blurred or displaced detail is not, and more blur or displacement costs more
    assert 0.01 < mean["truth low (2)"] < mean["truth low (8)"]
    assert mean["truth low (2) + truth high shifted 4 px"] > 0.01
    assert sum(len(v) for b, v in values["PatchMatch"].items() if b != "all") == 3  # each photo in one bucket
    report = (out / "ceiling.md").read_text()
    assert f"## {SIZE} px (3 photos)" in report and "**target** (15 % below PatchMatch)" in report


def test_missing_patchmatch_outputs_is_one_line(realism_out, capsys):
    out, masks = realism_out
    assert _script().main(["--out", str(out), "--masks", str(masks), "--sizes", "128"]) == 2
    assert capsys.readouterr().err.strip().startswith("error: no PatchMatch outputs at 128 px")
