"""The HTTP service with FastAPI's TestClient: good requests, and 4xx JSON errors that leave it serving."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient
from PIL import Image

from inpaint_lightning.inference import Inpainter
from inpaint_lightning.models.generators import FFCResNet
from inpaint_lightning.serving import create_app


@pytest.fixture(scope="module")
def client() -> TestClient:
    torch.manual_seed(0)
    g = FFCResNet(
        base_channels=8, n_downsampling=2, n_blocks=1, max_channels=16, prefill="pyramid", residual=True
    )
    return TestClient(create_app(Inpainter.from_generator(g.eval()), max_upload_mb=0.25))


def png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def photo(h: int, w: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    return np.asarray(
        Image.fromarray(rng.integers(0, 256, (h // 8 + 2, w // 8 + 2, 3), np.uint8)).resize((w, h))
    )


def post(client: TestClient, image: bytes, mask: bytes, **form):
    files = {"image": ("photo.png", image, "image/png"), "mask": ("mask.png", mask, "image/png")}
    return client.post("/inpaint", files=files, data=form)


def test_inpaint_returns_png_of_same_size_with_known_pixels_kept(client):
    img = photo(45, 67)
    mask = np.zeros((45, 67), np.uint8)
    mask[10:25, 0:20] = 255  # touches the left border
    response = post(client, png(img), png(mask))
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    out = np.asarray(Image.open(io.BytesIO(response.content)))
    assert out.shape == img.shape
    assert np.array_equal(out[mask == 0], img[mask == 0])
    assert not np.array_equal(out[mask > 0], img[mask > 0])
    jpeg = io.BytesIO()
    Image.fromarray(img).save(jpeg, format="JPEG")
    inverted = post(client, jpeg.getvalue(), png(255 - mask), invert_mask="true", mode="full")
    assert inverted.status_code == 200
    assert Image.open(io.BytesIO(inverted.content)).size == (67, 45)


def test_bad_requests_get_json_4xx_and_server_keeps_serving(client):
    img, mask = photo(40, 50), np.zeros((40, 50), np.uint8)
    mask[5:15, 5:15] = 255
    cases = [
        (post(client, b"definitely not an image", png(mask)), 400, "image: not a decodable image"),
        (post(client, png(img), b""), 400, "mask: empty file"),
        (post(client, png(img), png(mask[:30])), 422, "mask is 50 x 30 but image is 50 x 40 (W x H): another"),
        (post(client, png(img), png(mask), mode="sideways"), 422, "mode must be"),
        (post(client, png((np.random.default_rng(1).random((400, 400, 3)) * 255).astype(np.uint8)), png(mask)),
         413, "upload too large"),
    ]  # fmt: skip
    for response, status, text in cases:
        assert response.status_code == status, response.text
        assert response.headers["content-type"].startswith("application/json")
        assert text in response.json()["detail"]
    missing = client.post("/inpaint", files={"image": ("a.png", png(img), "image/png")})
    assert missing.status_code == 422 and missing.json()["detail"][0]["loc"][-1] == "mask"
    assert client.get("/health").json()["status"] == "ok"
    assert post(client, png(img), png(mask)).status_code == 200


def test_page_is_served(client):
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    for element in ('id="file"', 'id="brush"', 'id="undo"', 'id="clear"', 'id="inpaint"', 'id="download"'):
        assert element in page.text
    assert "http://" not in page.text and "https://" not in page.text  # no CDN: works offline


def test_network_work_is_bounded_in_every_mode():
    torch.manual_seed(0)
    g = FFCResNet(base_channels=8, n_downsampling=2, n_blocks=1, max_channels=16).eval()
    inpainter = Inpainter.from_generator(g, working_size=64)
    client = TestClient(create_app(inpainter, max_network_pixels=20_000))
    img, mask = photo(160, 200), np.zeros((160, 200), np.uint8)
    mask[60:80, 90:110] = 255
    assert inpainter.network_pixels(mask > 0, "full") == 160 * 200  # over the limit
    assert inpainter.network_pixels(mask > 0, "crop") <= 64 * 64  # one window, shrunk to the working size
    full = post(client, png(img), png(mask), mode="full")
    assert full.status_code == 413 and "network work" in full.json()["detail"]
    assert post(client, png(img), png(mask), mode="crop").status_code == 200


def test_a_full_queue_answers_503_and_health_stays_fast():
    import threading
    import time

    torch.manual_seed(0)
    g = FFCResNet(base_channels=8, n_downsampling=2, n_blocks=1, max_channels=16).eval()
    inpainter = Inpainter.from_generator(g)
    started, release = threading.Event(), threading.Event()
    real = inpainter.inpaint_tensor

    def slow(*args, **kwargs):
        started.set()
        release.wait(10)
        return real(*args, **kwargs)

    inpainter.inpaint_tensor = slow
    client = TestClient(create_app(inpainter, max_queue=0))
    img, mask = photo(40, 50), np.zeros((40, 50), np.uint8)
    mask[10:20, 10:30] = 255
    first: list = []
    worker = threading.Thread(target=lambda: first.append(post(client, png(img), png(mask))))
    worker.start()
    assert started.wait(10)
    t0 = time.perf_counter()
    health = client.get("/health")
    assert health.status_code == 200 and health.json()["busy"] is True
    assert time.perf_counter() - t0 < 2.0  # not queued behind the running inference
    refused = post(client, png(img), png(mask))
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "5"
    release.set()
    worker.join(10)
    assert first[0].status_code == 200
    assert post(client, png(img), png(mask)).status_code == 200  # the slot is free again


def test_a_stalled_upload_times_out_with_408():
    import asyncio

    from inpaint_lightning.serving.app import UploadLimit

    async def app(scope, receive, send):  # never reached
        raise AssertionError

    sent: list[dict] = []

    async def receive():
        await asyncio.sleep(5)
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "headers": []}
    asyncio.run(UploadLimit(app, max_bytes=1000, body_timeout=0.05)(scope, receive, send))
    assert sent[0]["status"] == 408


def test_one_process_serves_inpainting_and_restoration_models():
    from inpaint_lightning.inference import Restorer
    from inpaint_lightning.models import NAFNet

    torch.manual_seed(0)
    g = FFCResNet(base_channels=8, n_downsampling=2, n_blocks=1, max_channels=16)
    sr = NAFNet(width=8, enc_blocks=(1,), middle_blocks=1, dec_blocks=(1,), scale=2).eval()
    dn = NAFNet(width=8, enc_blocks=(1,), middle_blocks=1, dec_blocks=(1,), scale=1).eval()
    restorers = {
        "sr_x2": Restorer.from_generator(sr, tile=64, overlap=8),
        "denoise": Restorer.from_generator(dn),
    }
    both = TestClient(
        create_app(Inpainter.from_generator(g.eval()), restorers=restorers, max_network_pixels=20_000)
    )
    models = both.get("/health").json()["models"]
    assert [(m["name"], m["task"], m.get("scale")) for m in models] == [
        ("inpaint", "inpaint", None), ("sr_x2", "restore", 2), ("denoise", "restore", 1)
    ]  # fmt: skip
    image = png(photo(40, 56))
    restored = both.post("/restore", files={"image": ("p.png", image, "image/png")})
    assert restored.status_code == 200 and Image.open(io.BytesIO(restored.content)).size == (112, 80)
    picked = both.post("/restore", files={"image": ("p.png", image, "image/png")}, data={"model": "denoise"})
    assert Image.open(io.BytesIO(picked.content)).size == (56, 40)
    unknown = both.post("/restore", files={"image": ("p.png", image, "image/png")}, data={"model": "nope"})
    assert unknown.status_code == 404 and "sr_x2, denoise" in unknown.json()["detail"]
    big = both.post("/restore", files={"image": ("p.png", png(photo(160, 200)), "image/png")})
    assert big.status_code == 413 and "megapixels of network work" in big.json()["detail"]
    assert post(both, image, png(np.zeros((40, 56), np.uint8))).status_code == 200  # inpainting still there
    only_restore = TestClient(create_app(restorers=restorers))
    assert post(only_restore, image, png(np.zeros((40, 56), np.uint8))).status_code == 404
    only_inpaint = TestClient(create_app(Inpainter.from_generator(g.eval())))
    assert only_inpaint.post("/restore", files={"image": ("p.png", image, "image/png")}).status_code == 404


def test_detect_returns_the_damage_mask_and_health_lists_the_detector():
    from inpaint_lightning.inference import DamageDetector

    class WhiteLines(torch.nn.Module):  # damage where a pixel is near-white
        in_channels, scale = 3, 1

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return (x.mean(1, keepdim=True) > 0.9).float() * 40 - 20

    detector = DamageDetector.from_generator(WhiteLines(), dilate=0)
    client = TestClient(create_app(detector=detector, max_network_pixels=20_000))
    assert [(m["name"], m["task"]) for m in client.get("/health").json()["models"]] == [("detect", "detect")]
    scratched = np.full((40, 56, 3), 90, np.uint8)
    scratched[20, 3:50] = 255
    found = client.post("/detect", files={"image": ("p.png", png(scratched), "image/png")})
    assert found.status_code == 200 and found.headers["content-type"] == "image/png"
    mask = np.asarray(Image.open(io.BytesIO(found.content)))
    assert mask.shape == (40, 56) and mask[20, 3:50].min() == 255 and mask.sum() == 255 * 47
    # a large photo is looked at at the detector's working size (512 short side): that is its network work
    assert detector.network_pixels(1200, 1600) == 2 * 512 * 512  # 512 x 683 in two 512 px tiles
    big = client.post("/detect", files={"image": ("p.png", png(photo(1200, 1600)), "image/png")})
    assert big.status_code == 413 and "megapixels of network work" in big.json()["detail"]
    assert client.post("/restore", files={"image": ("p.png", png(scratched), "image/png")}).status_code == 404
    with pytest.raises(ValueError, match="damage detector"):
        create_app()
