"""Load figures of the HTTP service: sequential and concurrent latency, an abusive request, peak memory.

    python benchmarks/load_service.py --checkpoint CK [--repo DIR] [--clients 20] [--out FILE.json]

Starts ``python -m inpaint_lightning serve`` from ``--repo`` (default this checkout; point it at a ``git worktree``
of an older commit to get "before" figures), then measures with real HTTP on localhost:

1. sequential: ``--requests`` POST /inpaint of a 512 x 512 photo with a 15 % hole, one after another;
2. concurrent: ``--clients`` threads posting the same request at once (status codes counted: 503 = refused);
3. /health latency while the concurrent load runs;
4. abuse: ``mode=full`` on a smooth 2896 x 2896 PNG (the issue's 242 KB request), with its status and time;

and the server's peak resident memory (``VmHWM``). Latencies: median and p95 in seconds.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]


def png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def photo(size: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (size // 16, size // 16, 3), np.uint8)
    return np.asarray(Image.fromarray(small).resize((size, size), Image.BICUBIC))


def hole(size: int, frac: float) -> np.ndarray:
    mask = np.zeros((size, size), np.uint8)
    side = int(size * frac**0.5)
    mask[size // 3 : size // 3 + side, size // 4 : size // 4 + side] = 255
    return mask


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--repo", type=Path, default=ROOT)
    parser.add_argument("--requests", type=int, default=10)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "inpaint_lightning", "serve", "--checkpoint", str(Path(args.checkpoint).resolve()),
         "--port", str(port)],
        cwd=args.repo, env={**os.environ, "PYTHONPATH": str(args.repo)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(600):
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        files = {
            "image": ("p.png", png(photo(512)), "image/png"),
            "mask": ("m.png", png(hole(512, 0.15)), "image/png"),
        }
        result: dict = {"repo": str(args.repo), "checkpoint": str(args.checkpoint)}

        seq = []
        for _ in range(args.requests):
            t0 = time.perf_counter()
            r = httpx.post(f"{url}/inpaint", files=files, timeout=600)
            seq.append(time.perf_counter() - t0)
            assert r.status_code == 200, r.text
        result["sequential"] = {"n": len(seq), "median_s": statistics.median(seq), "p95_s": pct(seq, 0.95)}

        latencies: list[float] = []
        codes: dict[int, int] = {}
        health: list[float] = []
        lock = threading.Lock()

        def client() -> None:
            t0 = time.perf_counter()
            try:
                code = httpx.post(f"{url}/inpaint", files=files, timeout=600).status_code
            except httpx.HTTPError:
                code = -1
            with lock:
                latencies.append(time.perf_counter() - t0)
                codes[code] = codes.get(code, 0) + 1

        threads = [threading.Thread(target=client) for _ in range(args.clients)]
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            t0 = time.perf_counter()
            httpx.get(f"{url}/health", timeout=600)
            health.append(time.perf_counter() - t0)
            time.sleep(0.5)
        for t in threads:
            t.join()
        ok = [lat for lat in latencies]
        result["concurrent"] = {
            "clients": args.clients, "status_codes": codes, "median_s": statistics.median(ok), "p95_s": pct(ok, 0.95),
            "health_median_s": statistics.median(health), "health_max_s": max(health),
        }  # fmt: skip

        big = np.asarray(Image.fromarray(photo(256, 1)).resize((2896, 2896), Image.BICUBIC))
        abuse = {
            "image": ("big.png", png(big), "image/png"),
            "mask": ("m.png", png(hole(2896, 0.1)), "image/png"),
        }
        t0 = time.perf_counter()
        try:
            code = httpx.post(f"{url}/inpaint", files=abuse, data={"mode": "full"}, timeout=900).status_code
        except httpx.HTTPError as err:
            code = f"error {type(err).__name__}"
        result["abuse_full_2896"] = {"upload_kb": len(abuse["image"][1]) // 1024, "status": code,
                                     "seconds": time.perf_counter() - t0}  # fmt: skip
        result["peak_rss_mb"] = peak_rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(30)
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
