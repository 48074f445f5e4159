"""HTTP service: ``POST /inpaint`` (multipart ``image`` + ``mask`` -> PNG), ``POST /restore`` (multipart ``image``
[+ ``model``] -> PNG at the model's scale), ``POST /detect`` (multipart ``image`` -> the damage mask as a PNG, white
= damage), ``GET /health`` (the loaded models and their tasks), and at ``/`` a page to upload a photo, paint the
hole (or let the damage detector find it) or pick a restoration model, compare before/after and download. One
process may serve an inpainting model, any number of restoration models and a damage detector; they share one
inference lock and one queue.

Errors are JSON ``{"detail": ...}`` with a 4xx/5xx status and never stop the server: 400 for a file that is not an
image, 408 for an upload slower than ``body_timeout``, 413 for an upload over ``max_upload_mb`` (checked on the
bytes received, not only on Content-Length), an image over ``max_pixels`` or a request whose network work
(:meth:`Inpainter.network_pixels`, any mode; :meth:`Restorer.network_pixels`) is over ``max_network_pixels``, 404 for a
task or model name the server has not loaded, 503 (with ``Retry-After``) when
``max_queue`` requests already wait for the model, 500 for a model that returns NaN, 422 for a mask of another aspect ratio than the image's (one of the same aspect ratio is resized, as in the
API) or a missing field.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import threading
from importlib import resources
from typing import Annotated, Any

import numpy as np
from fastapi import FastAPI, File, Form, HTTPException, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, Response
from PIL import Image, ImageOps, UnidentifiedImageError

from inpaint_lightning.data.io import _pil_to_rgb
from inpaint_lightning.data.masks import MaskSizeError, fit_mask
from inpaint_lightning.errors import NonFiniteOutputError
from inpaint_lightning.inference.convert import to_mask
from inpaint_lightning.inference.detector import DamageDetector
from inpaint_lightning.inference.inpainter import Inpainter
from inpaint_lightning.inference.restorer import Restorer


class UploadLimit:
    """ASGI middleware: a request body over ``max_bytes`` gets a JSON 413 before the app parses it.

    A declared Content-Length over the limit is refused at once; otherwise the body is read (at most
    ``max_bytes`` + 1 bytes are kept) and replayed to the app, so chunked uploads are limited too. A client
    that sends nothing for ``body_timeout`` seconds mid-upload gets a 408 and frees its slot (a slow-loris upload
    must not hold the server).
    """

    def __init__(self, app: Any, max_bytes: int, body_timeout: float = 30.0) -> None:
        self.app, self.max_bytes, self.body_timeout = app, max_bytes, body_timeout

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("method") not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send, int(declared))
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            try:
                message = await asyncio.wait_for(receive(), timeout=self.body_timeout)
            except TimeoutError:
                response = JSONResponse(
                    {"detail": f"upload stalled for {self.body_timeout:g} s"}, status_code=408
                )
                response.headers["Connection"] = "close"
                await response(scope, receive, send)
                return
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(scope, receive, send, size)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        sent = False

        async def replay() -> dict:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: dict, receive: Any, send: Any, size: int) -> None:
        limit_mb = self.max_bytes / 2**20
        response = JSONResponse(
            {"detail": f"upload too large: {size / 2**20:.3g} MB > limit {limit_mb:.3g} MB"}, status_code=413
        )
        response.headers["Connection"] = "close"
        await response(scope, receive, send)


def _decode(data: bytes, what: str, max_pixels: int) -> Image.Image:
    if not data:
        raise HTTPException(400, f"{what}: empty file")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            width, height = probe.size
        if width * height > max_pixels:
            raise HTTPException(
                413,
                f"{what}: {width} x {height} pixels is over the limit of {max_pixels / 1e6:.0f} megapixels",
            )
        img = Image.open(io.BytesIO(data))
        img.load()
    except HTTPException:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError) as err:
        raise HTTPException(400, f"{what}: not a decodable image ({type(err).__name__})") from None
    with contextlib.suppress(Exception):  # broken EXIF must not cost the image
        img = ImageOps.exif_transpose(img)
    return img


def _png(result: Any, filename: str) -> Response:
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(result, dtype=np.uint8)).save(buffer, format="PNG", compress_level=1)
    return Response(
        buffer.getvalue(),
        media_type="image/png",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


def create_app(
    inpainter: Inpainter | None = None,
    max_upload_mb: float = 20.0,
    max_pixels: int = 40_000_000,
    max_network_pixels: int = 4_000_000,
    max_queue: int = 4,
    body_timeout: float = 30.0,
    title: str = "inpaint_lightning",
    restorers: dict[str, Restorer] | None = None,
    detector: DamageDetector | None = None,
) -> FastAPI:
    """The FastAPI app (with the upload limit) serving ``inpainter``, ``restorers`` and/or ``detector``.

    Args:
        inpainter: what fills the holes (its mode, working size and mask polarity are the defaults of
            ``/inpaint``; the form fields ``mode`` and ``invert_mask`` override them per request), or None.
        restorers: restoration models by name for ``/restore`` (the form field ``model`` picks one; default the
            first), or None.
        detector: the damage detector for ``/detect`` (the page's "Find damage"), or None.
        max_upload_mb: largest request body accepted (image + mask).
        max_pixels: largest image accepted, in pixels (decoding cost).
        max_network_pixels: largest network work per request, in pixels through the network (any mode; crop
            mode's windows are shrunk to the working size, full mode runs the whole image): bounds time and memory.
        max_queue: requests that may wait while one runs; more get 503 at once instead of piling up.
        body_timeout: seconds an upload may stall before a 408.
    """
    restorers = dict(restorers or {})
    if inpainter is None and not restorers and detector is None:
        raise ValueError("create_app needs an inpainter, a restorer or a damage detector")
    app = FastAPI(
        title=title,
        description="Image inpainting (POST an image and a mask, white = hole), restoration (POST an image) and "
        "old-photo damage detection (POST an image, get its damage mask).",
    )
    lock = threading.Lock()  # one inference at a time: the model already uses every core it is given
    admission = threading.BoundedSemaphore(max_queue + 1)  # the running request + the queue
    page = resources.files("inpaint_lightning.serving").joinpath("static/index.html").read_text("utf-8")
    app.state.inpainter, app.state.restorers, app.state.detector = inpainter, restorers, detector

    @contextlib.contextmanager
    def admitted() -> Any:
        """A place in the queue (running + waiting) or 503 at once."""
        if not admission.acquire(blocking=False):
            raise HTTPException(503, f"busy: {max_queue} requests already wait", headers={"Retry-After": "5"})
        try:
            yield
        finally:
            admission.release()

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index() -> HTMLResponse:
        return HTMLResponse(page)

    @app.get("/health")
    async def health() -> dict:  # on the event loop, never behind the inference threads
        models = []
        if inpainter is not None:
            models.append({
                "name": "inpaint", "task": inpainter.task, "endpoint": "inpaint", "backend": type(inpainter.backend).__name__,
                "size_multiple": inpainter.size_multiple, "mode": inpainter.mode,
            })  # fmt: skip
        for name, restorer in restorers.items():
            models.append({
                "name": name, "task": restorer.task, "endpoint": "restore", "scale": restorer.scale, "tile": restorer.tile,
                "backend": type(restorer.backend).__name__, "size_multiple": restorer.size_multiple,
            })  # fmt: skip
        if detector is not None:
            models.append({
                "name": "detect", "task": detector.task, "endpoint": "detect", "working_side": detector.working_side,
                "backend": type(detector.backend).__name__, "size_multiple": detector.size_multiple,
            })  # fmt: skip
        return {
            "status": "ok",
            "models": models,
            "max_upload_mb": max_upload_mb,
            "max_network_megapixels": max_network_pixels / 1e6,
            "max_queue": max_queue,
            "busy": lock.locked(),
        }

    @app.post(
        "/inpaint",
        response_class=Response,
        responses={200: {"content": {"image/png": {}}, "description": "the inpainted image as PNG"}},
    )
    def inpaint(
        image: Annotated[UploadFile, File(description="the photo (any format Pillow reads)")],
        mask: Annotated[UploadFile, File(description="the mask, same size, white = hole")],
        mode: Annotated[str | None, Form(description="crop or full (default: the server's)")] = None,
        invert_mask: Annotated[bool | None, Form(description="the mask marks holes in black")] = None,
    ) -> Response:
        if inpainter is None:
            raise HTTPException(404, "no inpainting model is loaded on this server (see /health)")
        if mode not in (None, "crop", "full"):
            raise HTTPException(422, f"mode must be 'crop' or 'full', got {mode!r}")
        with admitted():
            return _inpaint(inpainter, image, mask, mode, invert_mask)

    @app.post(
        "/restore",
        response_class=Response,
        responses={200: {"content": {"image/png": {}}, "description": "the restored image as PNG (x scale)"}},
    )
    def restore(
        image: Annotated[UploadFile, File(description="the photo (any format Pillow reads)")],
        model: Annotated[
            str | None, Form(description="restoration model name (see /health; default the first)")
        ] = None,
    ) -> Response:
        if not restorers:
            raise HTTPException(404, "no restoration model is loaded on this server (see /health)")
        name = model or next(iter(restorers))
        if name not in restorers:
            raise HTTPException(404, f"no restoration model {name!r}; loaded: {', '.join(restorers)}")
        with admitted():
            return _one_image(restorers[name], image)

    @app.post(
        "/detect",
        response_class=Response,
        responses={
            200: {"content": {"image/png": {}}, "description": "the damage mask as PNG, white = damage"}
        },
    )
    def detect(
        image: Annotated[UploadFile, File(description="the photo (any format Pillow reads)")],
    ) -> Response:
        if detector is None:
            raise HTTPException(404, "no damage detector is loaded on this server (see /health)")
        with admitted():
            return _one_image(detector, image, "damage.png")

    def _one_image(restorer: Restorer, image: UploadFile, filename: str = "restored.png") -> Response:
        """A Restorer (or the DamageDetector, one) on an uploaded image, as PNG, within the limits."""
        rgb = _pil_to_rgb(_decode(image.file.read(), "image", max_pixels))
        work = restorer.network_pixels(*rgb.shape[:2])
        if work > max_network_pixels:
            raise HTTPException(
                413,
                f"this request needs {work / 1e6:.1f} megapixels of network work ({rgb.shape[1]} x {rgb.shape[0]}); "
                f"the limit is {max_network_pixels / 1e6:.1f}: send a smaller image",
            )
        with lock:
            try:
                result = restorer(rgb)
            except NonFiniteOutputError as err:
                raise HTTPException(500, str(err)) from None
        return _png(result, filename)

    def _inpaint(
        inpainter: Inpainter, image: UploadFile, mask: UploadFile, mode: str | None, invert_mask: bool | None
    ) -> Response:
        img = _decode(image.file.read(), "image", max_pixels)
        msk = _decode(mask.file.read(), "mask", max_pixels)
        rgb = _pil_to_rgb(img)
        holes = to_mask(msk, invert=bool(invert_mask) if invert_mask is not None else inpainter.invert_mask)
        try:  # the API's mask-size policy: same aspect ratio resized, another one refused
            fitted = fit_mask(holes[0, 0].numpy(), rgb.shape[:2])
        except MaskSizeError as err:
            raise HTTPException(422, str(err)) from None
        work = inpainter.network_pixels(fitted, mode)
        if work > max_network_pixels:
            raise HTTPException(
                413,
                f"this request needs {work / 1e6:.1f} megapixels of network work ({mode or inpainter.mode} mode on "
                f"{rgb.shape[1]} x {rgb.shape[0]}); the limit is {max_network_pixels / 1e6:.1f}: use mode=crop or a "
                f"smaller image",
            )
        with lock:
            try:
                result = inpainter(rgb, fitted, invert_mask=False, mode=mode)
            except NonFiniteOutputError as err:
                raise HTTPException(500, str(err)) from None
        return _png(result, "inpainted.png")

    app.add_middleware(UploadLimit, max_bytes=int(max_upload_mb * 2**20), body_timeout=body_timeout)
    return app
