"""benchmarks/realism_ceiling.py: oracle fills scored on realism.py's folders with evaluate's pairs, crops, composite,
buckets and LPIPS."""

from __future__ import annotations

import csv
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT
from PIL import Image

from inpaint_lightning.data.eval_sets import resize_center_crop
from inpaint_lightning.data.io import read_mask

SIZE = 64


def _script():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    spec = importlib.util.spec_from_file_location(
        "realism_ceiling", ROOT / "benchmarks" / "realism_ceiling.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def realism_out(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A realism.py output folder: 4 textured photos larger than SIZE and not square (so they are scaled and
    cropped), generic masks of another size (resized, paired by evaluate's stable assignment), and 'PatchMatch'
    fills at SIZE that are grey in the hole and black outside it (the composite must put the truth back there)."""
    rng = np.random.default_rng(0)
    photos, masks = tmp_path / "out" / "eval_photos", tmp_path / "masks"
    outputs = tmp_path / "out" / f"eval_{SIZE}" / "patchmatch" / "outputs"
    for folder in (photos, masks, outputs):
        folder.mkdir(parents=True)
    for i in range(4):
        mask = np.zeros((100, 100), np.uint8)
        mask[10 : 20 + 15 * i, 10:70] = 255
        Image.fromarray(mask).save(masks / f"m{i}.png")
    for i in range(4):
        photo = rng.integers(0, 256, (80, 96, 3), dtype=np.uint8)  # fine texture: blurring it costs LPIPS
        Image.fromarray(photo).save(photos / f"p{i}.png")
    from inpaint_lightning.data.mask_pairing import pair_paths

    for pair in pair_paths(photos, masks, seed=0):
        hole = read_mask(pair.mask, size=(SIZE, SIZE)) > 0.5
        fill = np.zeros((SIZE, SIZE, 3), np.uint8)
        fill[hole] = 128
        Image.fromarray(fill).save(outputs / f"{pair.name}.png")
    return tmp_path / "out", masks, outputs


def test_patchmatch_row_is_what_evaluate_scores_and_oracles_order(realism_out, tmp_path, one_thread):
    from inpaint_lightning.commands.evaluate import build_parser, evaluate

    out, masks, outputs = realism_out
    script = _script()
    table = tmp_path / "kept" / "ceiling.md"  # realism.py keeps it beside the classical fills
    assert (
        script.main(["--out", str(out), "--masks", str(masks), "--sizes", str(SIZE), "--output", str(table)])
        == 0
    )
    values, count = script.score(out / "eval_photos", masks, outputs, SIZE, script.PerImageLPIPS("alex"))
    assert count == 4
    args = build_parser().parse_args(
        ["--images", str(out / "eval_photos"), "--masks", str(masks), "--output", str(tmp_path / "ev"),
         "--predictions", str(outputs), "--size", str(SIZE), "--workers", "0", "--quiet"]
    )  # fmt: skip
    scored = evaluate(args)
    # the same pairs, crops, composite (black outside the hole does not count) and buckets as evaluate
    assert np.mean(values["PatchMatch"]["all"]) == pytest.approx(scored["overall"]["lpips"], abs=1e-5)
    with (tmp_path / "ev" / "per_image.csv").open() as f:
        buckets = sorted(row["bucket"] for row in csv.DictReader(f))
    assert sorted(b for b, v in values["PatchMatch"].items() if b != "all" for _ in v) == buckets
    mean = {name: np.mean(per["all"]) for name, per in values.items()}
    assert mean["PatchMatch"] > 0.05  # a grey fill of fine texture is far from the truth...
    assert (
        mean["truth low (2)"] < mean["truth low (8)"] < mean["PatchMatch"]
    )  # ... blur less so, more blur worse
    assert (
        mean["truth low (2) + truth high shifted 4 px down and right"] > 0.01
    )  # out of phase is not perfect
    report = table.read_text()
    assert f"## {SIZE} px (4 photos)" in report and "**target** (15 % below PatchMatch)" in report


def test_truth_as_patchmatch_makes_its_oracles_perfect(realism_out, one_thread):
    """Known input: with the truth itself as 'PatchMatch', its row and truth low + its high are exactly zero."""
    out, masks, outputs = realism_out
    for photo in (out / "eval_photos").iterdir():
        crop = resize_center_crop(np.asarray(Image.open(photo)), SIZE)
        Image.fromarray(crop).save(outputs / photo.name)
    script = _script()
    values, _ = script.score(out / "eval_photos", masks, outputs, SIZE, script.PerImageLPIPS("alex"))
    assert np.mean(values["PatchMatch"]["all"]) < 1e-6
    assert np.mean(values["truth low (4) + PatchMatch high"]["all"]) < 1e-3


def test_missing_patchmatch_outputs_is_one_line(realism_out, capsys):
    out, masks, _ = realism_out
    assert _script().main(["--out", str(out), "--masks", str(masks), "--sizes", "128"]) == 2
    assert capsys.readouterr().err.strip().startswith("error: no PatchMatch outputs at 128 px")
