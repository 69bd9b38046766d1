"""Annotation latency: saving and loading a 2048x2048 mask, SLIC and GrabCut at 512x512.

Baselines in the same run: encoding and decoding the same mask as a PNG with Pillow alone
(the floor under a save or a load), and decoding the 512x512 image (the floor under any tool).
"""

from __future__ import annotations

import io
import shutil
import statistics
import time
from collections.abc import Callable

import httpx
import numpy as np
from PIL import Image

from bench.common import OUTPUT, table
from robustar.config import DataConfig, WorkspaceConfig
from robustar.server.background import serve_in_background
from robustar.workspace import Workspace

SMOKE = {"repeats": 1}


def timings(run: Callable[[], object], repeats: int) -> tuple[float, float]:
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        samples.append(time.perf_counter() - started)
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[int(0.95 * (len(ordered) - 1))] * 1000


def make_workspace() -> Workspace:
    root = OUTPUT / "annotation"
    shutil.rmtree(root, ignore_errors=True)
    rng = np.random.default_rng(0)
    for name, side in (("big", 2048), ("photo", 512)):
        folder = root / "data" / name
        folder.mkdir(parents=True)
        base = rng.integers(0, 256, (side // 16, side // 16, 3), dtype=np.uint8)
        Image.fromarray(base).resize((side, side), Image.BICUBIC).save(folder / "image.jpg")
    return Workspace.create(root / "ws", WorkspaceConfig(data=DataConfig(train=str(root / "data"))))


def run(repeats: int = 15) -> str:
    workspace = make_workspace()
    big = workspace.images("train", label="big")[0].id
    photo = workspace.images("train", label="photo")[0].id
    rng = np.random.default_rng(1)
    yy, xx = np.mgrid[:2048, :2048]
    mask = ((xx - 1024) ** 2 + (yy - 900) ** 2 < 600**2) ^ (rng.random((2048, 2048)) < 0.001)
    rows = []

    def png_round_trip() -> None:
        buffer = io.BytesIO()
        Image.fromarray(mask).save(buffer, format="PNG")
        np.asarray(Image.open(io.BytesIO(buffer.getvalue())))

    base = timings(png_round_trip, repeats)
    rows.append(["PNG encode + decode, Pillow only (baseline)", *base])
    rows.append(
        ["save 2048x2048 mask (library)", *timings(lambda: workspace.masks.set(big, mask), repeats)]
    )
    rows.append(
        ["load 2048x2048 mask (library)", *timings(lambda: workspace.masks.get(big), repeats)]
    )
    image_floor = timings(lambda: workspace.load_image(photo), repeats)
    rows.append(["decode the 512x512 image (baseline)", *image_floor])
    rows.append(
        [
            "SLIC, 200 superpixels, 512x512",
            *timings(lambda: workspace.masks.superpixels(photo, 200), repeats),
        ]
    )
    rows.append(
        [
            "GrabCut, box, 512x512",
            *timings(lambda: workspace.masks.grabcut(photo, (100, 80, 420, 440)), repeats),
        ]
    )
    with serve_in_background(workspace) as url, httpx.Client(base_url=url, timeout=60) as client:
        payload = io.BytesIO()
        Image.fromarray(mask).save(payload, format="PNG")
        body = payload.getvalue()
        path = f"/api/v1/images/{big}/masks/spurious"

        def put() -> None:
            version = int(client.get(path).headers["x-mask-version"])
            response = client.put(path, params={"base_version": version}, content=body)
            response.raise_for_status()

        rows.append(["HTTP: GET current version + PUT 2048x2048 mask", *timings(put, repeats)])
        rows.append(
            [
                "HTTP: GET 2048x2048 mask",
                *timings(lambda: client.get(path).raise_for_status(), repeats),
            ]
        )
        rows.append(
            [
                "HTTP: SLIC 512x512 (labels as PNG)",
                *timings(
                    lambda: client.get(f"/api/v1/images/{photo}/superpixels").raise_for_status(),
                    repeats,
                ),
            ]
        )
        grab = {"box": [100, 80, 420, 440]}
        rows.append(
            [
                "HTTP: GrabCut 512x512",
                *timings(
                    lambda: client.post(
                        f"/api/v1/images/{photo}/grabcut", json=grab
                    ).raise_for_status(),
                    repeats,
                ),
            ]
        )
    workspace.close()
    floor = base[0]
    return table(
        f"Annotation latency, {repeats} runs each (targets: assisted tools < 300 ms at 512x512; "
        f"2048x2048 mask is {len(body):,} bytes as PNG)",
        ["operation", "p50 ms", "p95 ms", "p50 / PNG baseline"],
        [[name, f"{p50:.1f}", f"{p95:.1f}", f"{p50 / floor:.2f}"] for name, p50, p95 in rows],
    )


if __name__ == "__main__":
    print(run())
