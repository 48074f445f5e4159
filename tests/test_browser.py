"""The page in a real browser (paint and inpaint; let the damage detector mark the hole; pick a restoration model
and compare before/after): Debian's headless Chromium driven by Playwright (no `playwright install`).

Uses ``$CHROMIUM``, else Debian's ``/usr/bin/chromium`` / ``chromium`` on PATH, else Playwright's own Chromium;
``make test`` installs one first (``make browser-deps``). The test fails, not skips, without any: the page is part
of what ships.
"""

from __future__ import annotations

import io
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import torch
import uvicorn
from PIL import Image

from inpaint_lightning.inference import DamageDetector, Inpainter, Restorer
from inpaint_lightning.models import NAFNet
from inpaint_lightning.models.generators import FFCResNet
from inpaint_lightning.serving import create_app

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def _chromium() -> str | None:
    """A Chromium executable, or None for the one `playwright install chromium` put in Playwright's cache."""
    path = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if path:
        return path
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        bundled = p.chromium.executable_path
    if not Path(bundled).exists():
        pytest.fail(
            f"no Chromium ({CHROMIUM}, `chromium` on PATH, or Playwright's {bundled}): run `make browser-deps` "
            "(Debian: apt-get install -y chromium chromium-driver; elsewhere: playwright install chromium), "
            "or set CHROMIUM=/path/to/chromium"
        )
    return None


@contextmanager
def page_at(url: str) -> Iterator:
    """A Chromium page on ``url`` (headless, closed afterwards)."""
    executable = _chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.goto(url)
            yield page
        finally:
            browser.close()


class WhiteLines(torch.nn.Module):
    """A stand-in damage detector: damage where a pixel is near-white."""

    in_channels, scale = 3, 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x.mean(1, keepdim=True) > 0.9).float() * 40 - 20


@pytest.fixture(scope="module")
def server_url():
    torch.manual_seed(0)
    g = FFCResNet(
        base_channels=8, n_downsampling=2, n_blocks=1, max_channels=16, prefill="pyramid", residual=True
    )
    sr = NAFNet(width=8, enc_blocks=(1,), middle_blocks=1, dec_blocks=(1,), scale=2).eval()
    app = create_app(
        Inpainter.from_generator(g.eval()),
        restorers={"sr_x2": Restorer.from_generator(sr)},
        detector=DamageDetector.from_generator(WhiteLines(), dilate=1),
    )
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_paint_inpaint_and_download_in_chromium(server_url, tmp_path):
    rng = np.random.default_rng(0)
    small = rng.integers(0, 256, (12, 16, 3), dtype=np.uint8)
    photo = tmp_path / "photo.png"
    Image.fromarray(small).resize((160, 120), Image.BILINEAR).save(photo)

    with page_at(server_url + "/") as page:
        assert page.locator("#inpaint").is_disabled()
        page.set_input_files("#file", str(photo))
        page.wait_for_function("document.getElementById('photo').width === 160")
        box = page.locator("#paint").bounding_box()
        assert box is not None and box["width"] > 0
        # A stroke across the middle, then an accidental one that Undo removes.
        page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.5)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.55, steps=8)
        page.mouse.up()
        page.mouse.move(box["x"] + 5, box["y"] + 5)
        page.mouse.down()
        page.mouse.move(box["x"] + 20, box["y"] + 10, steps=3)
        page.mouse.up()
        page.click("#undo")
        page.click("#inpaint")
        page.wait_for_function(
            "document.getElementById('result').complete && document.getElementById('result').naturalWidth > 0",
            timeout=30_000,
        )
        assert page.locator("#result-figure").is_visible()
        assert "Done" in page.locator("#status").inner_text()
        size = page.evaluate(
            "[document.getElementById('result').naturalWidth, document.getElementById('result').naturalHeight]"
        )
        assert size == [160, 120]
        href = page.get_attribute("#download", "href")
        assert href and href.startswith("blob:")
        # The downloaded PNG: same size, changed only where the stroke was painted.
        with page.expect_download() as info:
            page.click("#download")
        result = np.asarray(Image.open(io.BytesIO(Path(info.value.path()).read_bytes())).convert("RGB"))
        original = np.asarray(Image.open(photo).convert("RGB"))
        changed = np.any(result != original, axis=-1)
        assert result.shape == original.shape and changed.any()
        assert not changed[:20, :30].any()  # the undone stroke's corner is untouched
        ys, xs = np.nonzero(changed)
        assert 30 < xs.mean() < 120 and 40 < ys.mean() < 90  # around the painted stroke


def test_restore_compare_and_download_in_chromium(server_url, tmp_path):
    photo = tmp_path / "small.png"
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (30, 40, 3), dtype=np.uint8)).save(photo)
    with page_at(server_url + "/") as page:
        page.wait_for_function("document.getElementById('task').options.length === 2")
        assert page.locator("#task option").all_inner_texts() == [
            "Inpaint (paint a hole)",
            "Restore: sr_x2 (x2)",
        ]
        page.select_option("#task", "restore:sr_x2")
        assert page.locator("#restore").is_visible() and not page.locator("#inpaint").is_visible()
        assert not page.locator("#brush").is_visible()
        page.set_input_files("#file", str(photo))
        page.wait_for_function("!document.getElementById('restore').disabled")
        page.click("#restore")
        page.wait_for_function(
            "document.getElementById('result').complete && document.getElementById('result').naturalWidth > 0",
            timeout=30_000,
        )
        size = page.evaluate(
            "[document.getElementById('result').naturalWidth, document.getElementById('result').naturalHeight]"
        )
        assert size == [80, 60]  # the model's x2
        page.fill("#compare", "20")
        page.dispatch_event("#compare", "input")
        assert page.evaluate("document.getElementById('before').style.clipPath") == "inset(0px 80% 0px 0px)"
        assert page.get_attribute("#download", "download") == "restored.png"
        with page.expect_download() as info:
            page.click("#download")
        restored = Image.open(io.BytesIO(Path(info.value.path()).read_bytes()))
        assert restored.size == (80, 60)


def test_find_damage_then_inpaint_in_chromium(server_url, tmp_path):
    """Find damage marks what the detector finds; Inpaint sends it as the mask; Undo takes it back."""
    rng = np.random.default_rng(2)
    photo_px = (rng.uniform(0.2, 0.6, (12, 16, 3)) * 255).astype(np.uint8)
    photo_px = np.asarray(Image.fromarray(photo_px).resize((160, 120), Image.BILINEAR)).copy()
    photo_px[60:62, 10:150] = 255  # a white scratch
    photo = tmp_path / "scratched.png"
    Image.fromarray(photo_px).save(photo)
    with page_at(server_url + "/") as page:
        page.wait_for_function("!document.getElementById('detect').hidden")
        assert page.locator("#task option").count() == 2  # the detector is a button, not a task
        page.set_input_files("#file", str(photo))
        page.wait_for_function("!document.getElementById('detect').disabled")
        page.click("#detect")
        page.wait_for_function("document.getElementById('status').textContent.includes('Damage marked')")
        assert not page.locator("#undo").is_disabled()
        page.click("#inpaint")
        page.wait_for_function(
            "document.getElementById('result').complete && document.getElementById('result').naturalWidth > 0",
            timeout=30_000,
        )
        with page.expect_download() as info:
            page.click("#download")
        result = np.asarray(Image.open(io.BytesIO(Path(info.value.path()).read_bytes())).convert("RGB"))
        changed = np.any(result != photo_px, axis=-1)
        assert changed[60:62, 12:148].all()  # the scratch is filled ...
        assert (
            not changed[:57].any() and not changed[65:].any()
        )  # ... and nothing away from it (grown by 1 px)
        page.click("#undo")  # the detected damage is taken back: nothing left to inpaint
        assert page.locator("#inpaint").is_enabled()
        page.click("#inpaint")
        assert "Paint over the area" in page.locator("#status").inner_text()
