"""``python -m inpaint_lightning serve``: the FastAPI service and page (uvicorn), for one inpainting model and/or
restoration models (``--checkpoint`` repeated; each file's task is read from it).

``GET /`` the page, ``GET /health`` (loaded models and tasks), ``POST /inpaint`` (multipart ``image`` + ``mask``,
white = hole -> PNG), ``POST /restore`` (multipart ``image`` [+ ``model``] -> PNG), ``GET /docs`` the OpenAPI page.
"""

from __future__ import annotations

import argparse
import sys

from inpaint_lightning.inference.options import (
    add_detection_arguments,
    add_model_arguments,
    models_from_args,
)
from inpaint_lightning.usage import ArgumentParser, program_name


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog=f"{program_name()} serve",
        description="Serve models over HTTP: a page at /, POST /inpaint, POST /restore, POST /detect, GET /health.",
    )
    add_model_arguments(parser, restoration=True, many=True)
    add_detection_arguments(parser)
    parser.add_argument(
        "--host", default="127.0.0.1", help="interface (0.0.0.0 for every one; default local)"
    )
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--max-upload-mb", type=float, default=20.0, help="largest request body (default 20)")
    parser.add_argument(
        "--max-megapixels", type=float, default=40.0, help="largest image accepted (default 40 MP)"
    )
    parser.add_argument(
        "--max-network-megapixels",
        type=float,
        default=4.0,
        help="largest network work per request, any mode (default 4 MP; mode=full on a bigger photo gets 413)",
    )
    parser.add_argument(
        "--max-queue",
        type=int,
        default=4,
        help="requests that may wait for the model; more get 503 (default 4)",
    )
    parser.add_argument(
        "--timeout", type=float, default=30.0, help="seconds an upload may stall before 408 (default 30)"
    )
    return parser


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    import uvicorn

    from inpaint_lightning.serving.app import create_app

    inpainter, restorers, detector = models_from_args(args)
    for model in (inpainter, *restorers.values(), detector):
        if model is not None:
            model.min_side()  # compile-free warm-up: the first request is not slower
    app = create_app(
        inpainter,
        restorers=restorers,
        detector=detector,
        max_upload_mb=args.max_upload_mb,
        max_pixels=int(args.max_megapixels * 1_000_000),
        max_network_pixels=int(args.max_network_megapixels * 1_000_000),
        max_queue=args.max_queue,
        body_timeout=args.timeout,
    )
    served = (
        (["inpaint"] if inpainter is not None else [])
        + [f"restore {name} (x{r.scale})" for name, r in restorers.items()]
        + (["detect"] if detector is not None else [])
    )
    print(f"serving {', '.join(served)} on http://{args.host}:{args.port}/", file=sys.stderr)
    # Connections beyond the queue get uvicorn's 503 before any work; idle keep-alive sockets close after 5 s.
    uvicorn.run(
        app, host=args.host, port=args.port, log_level="info",
        limit_concurrency=args.max_queue + 32, timeout_keep_alive=5,
    )  # fmt: skip
    return 0
