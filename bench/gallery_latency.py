"""List-endpoint latency on a 100,000-image split, and thumbnail throughput (cold and warm)."""

from __future__ import annotations

import random
import shutil
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np
import torch
from PIL import Image
from sqlalchemy import insert

from bench.common import OUTPUT, table
from bench.scan_throughput import make_files
from robustar.config import DataConfig, ImageConfig, ModelConfig, RuntimeConfig, WorkspaceConfig
from robustar.db.tables import Prediction
from robustar.models.checkpoint import save_weights
from robustar.models.registry import create_model
from robustar.server.background import serve_in_background
from robustar.workspace import Workspace

SMOKE = {"repeats": 2, "images": 1000, "thumbnail_count": 10}


def build_workspace(count: int, root: Path = OUTPUT / "gallery-ws") -> Workspace:
    """`count` indexed images with a model version whose predictions are synthetic."""
    files = make_files(count)
    shutil.rmtree(root, ignore_errors=True)
    config = WorkspaceConfig(
        data=DataConfig(train=str(files)),
        image=ImageConfig(size=16),
        model=ModelConfig(architecture="tiny_cnn"),
        runtime=RuntimeConfig(workers=2),
    )
    workspace = Workspace.create(root, config)
    save_weights(create_model("tiny_cnn", 10), OUTPUT / "tiny.safetensors")
    version = workspace.import_model(OUTPUT / "tiny.safetensors")
    rng = np.random.default_rng(0)
    images = workspace.images("train", sort="id")
    logits = torch.from_numpy(rng.normal(size=(len(images), 10)).astype(np.float32) * 3)
    probabilities = logits.softmax(1).numpy()
    rows = []
    for info, p in zip(images, probabilities, strict=True):
        predicted = int(p.argmax())
        rows.append(
            {
                "version_id": version.id,
                "image_id": info.id,
                "split": "train",
                "label": info.label,
                "predicted": predicted,
                "confidence": float(p[predicted]),
                "loss": float(-np.log(p[info.label])),
                "correct": predicted == info.label,
                "probabilities": p.tobytes(),
            }
        )
    with workspace.session() as session:
        session.execute(insert(Prediction), rows)
    return workspace


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[int(0.95 * (len(ordered) - 1))] * 1000


def timed(client: httpx.Client, url: str, params: dict, repeats: int) -> list[float]:
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        response = client.get(url, params=params() if callable(params) else params)
        samples.append(time.perf_counter() - started)
        response.raise_for_status()
    return samples


def filtered_pages(workspace: Workspace) -> Callable[[], dict]:
    """Random pages of the gallery's heaviest common request: wrong predictions above a
    confidence, sorted by loss."""
    rng = random.Random(0)
    pages = max(2, workspace.count("train", correct=False) // 100)

    def filtered_page() -> dict:
        return {
            "split": "train",
            "correct": "false",
            "min_confidence": 0.3,
            "sort": "loss",
            "order": "desc",
            "page": rng.randint(1, pages // 2),
            "page_size": 100,
        }

    return filtered_page


def run(repeats: int = 60, images: int = 100_000, thumbnail_count: int = 400) -> str:
    workspace = build_workspace(images)
    filtered_page = filtered_pages(workspace)
    cases = [
        ("GET /health (baseline)", "/api/v1/health", {}),
        ("page of 100, no filter, by name", "/api/v1/images", {"split": "train", "page": 500}),
        (
            "page of 100, by class, by confidence",
            "/api/v1/images",
            {"split": "train", "label": 3, "sort": "confidence", "page": 20},
        ),
        ("page of 100, wrong + confidence, by loss", "/api/v1/images", filtered_page),
    ]
    latency_rows = []
    with serve_in_background(workspace) as base, httpx.Client(base_url=base) as client:
        client.get("/api/v1/images", params={"split": "train"})  # warm the database cache
        baseline = None
        for name, url, params in cases:
            p50, p95 = percentiles(timed(client, url, params, repeats))
            baseline = baseline or p50
            latency_rows.append([name, f"{p50:.1f}", f"{p95:.1f}", f"{p50 / baseline:.1f}"])

    workspace.close()
    return "\n\n".join(
        [
            table(
                f"List endpoint over HTTP, {images:,}-image split, {repeats} requests each "
                "(target: p95 < 150 ms for a filtered, sorted page of 100)",
                ["request", "p50 ms", "p95 ms", "p50 vs baseline"],
                latency_rows,
            ),
            thumbnails(thumbnail_count),
        ]
    )


def thumbnails(count: int = 400, side: int = 512) -> str:
    """Cold (made and cached) against warm (from the disk cache) thumbnails of photo-sized JPEGs."""
    root = OUTPUT / "thumbs"
    shutil.rmtree(root, ignore_errors=True)
    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, (side // 8, side // 8, 3), dtype=np.uint8)
    for i in range(count):
        folder = root / "data" / f"c{i % 2}"
        folder.mkdir(parents=True, exist_ok=True)
        tile = Image.fromarray(np.roll(base, i, axis=0)).resize((side, side), Image.BICUBIC)
        tile.save(folder / f"{i:04d}.jpg", quality=90)
    config = WorkspaceConfig(data=DataConfig(train=str(root / "data")))
    workspace = Workspace.create(root / "ws", config)
    ids = [i.id for i in workspace.images("train")]
    rows = []
    with serve_in_background(workspace) as base_url, httpx.Client(base_url=base_url) as client:

        def throughput(path: str, headers: dict | None = None) -> float:
            started = time.perf_counter()
            for image_id in ids:
                response = client.get(f"/api/v1/images/{image_id}/{path}", headers=headers)
                assert response.status_code in (200, 304)
            return len(ids) / (time.perf_counter() - started)

        original = throughput("file")
        cold = throughput("thumbnail?size=128")
        warm = throughput("thumbnail?size=128")
        etag = client.get(f"/api/v1/images/{ids[0]}/thumbnail?size=128").headers["etag"]
        revalidated = throughput("thumbnail?size=128", {"If-None-Match": etag})
    workspace.close()
    for name, value in [
        ("original file (baseline)", original),
        ("thumbnail 128, cold (made and cached)", cold),
        ("thumbnail 128, warm (from the disk cache)", warm),
        ("thumbnail 128, revalidated (304)", revalidated),
    ]:
        rows.append([name, f"{value:,.0f}", f"{value / original:.2f}"])
    return table(
        f"Image serving over HTTP, {count} JPEGs of {side}x{side}, one request at a time",
        ["request", "images/s", "vs baseline"],
        rows,
    )


if __name__ == "__main__":
    print(run())
