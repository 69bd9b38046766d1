"""SQLite against PostgreSQL in the same run: the gallery's p95 latency on a large split, and
mask-save throughput with concurrent annotators (saves acknowledged, conflicts, lost writes,
which must be 0).

The PostgreSQL workspace is the SQLite one moved by `robustar db migrate` (timed too), on a
throwaway cluster (tests/pg_cluster.py) tuned for speed over durability (fsync off): a server
with durable commits saves slower. Each annotator is a process of its own with the Python API
(as a web server's worker would be), saving masks of a small set of images that every
annotator edits, each save based on the version it read just before: two annotators on the same
image make a conflict, never a lost write.
"""

from __future__ import annotations

import multiprocessing
import random
import shutil
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from tests.pg_cluster import cluster, create_database
from tests.test_mask_concurrency import tagged

from bench.common import OUTPUT, table
from bench.gallery_latency import build_workspace, filtered_pages, percentiles, timed
from robustar.db.transfer import move_workspace
from robustar.errors import ConflictError, NotFoundError
from robustar.server.background import serve_in_background
from robustar.workspace import Workspace

SMOKE = {"images": 300, "annotators": 2, "seconds": 2.0, "repeats": 5}

# (image id, save id, version) of an acknowledged save; (image id, None, current) a conflict
Save = tuple[int, int | None, int | None]


def annotate(root: str, writer: int, images: list[int], seconds: float, go: Any, out: Any) -> None:
    """One annotator: read the current version of a random image of the set, save over it."""
    rng = random.Random(writer)
    saves: list[Save] = []
    errors: list[str] = []
    with Workspace.open(root) as workspace:
        shapes = {i: (workspace.image(i).height, workspace.image(i).width) for i in images}
        go.wait()
        deadline = time.monotonic() + seconds
        sequence = 0
        while time.monotonic() < deadline:
            sequence += 1
            image_id, save_id = rng.choice(images), writer * 1_000_000 + sequence
            current = workspace.masks.current(image_id)
            base = None if current is None else current.version
            try:
                mask = tagged(save_id, shapes[image_id])
                saved = workspace.masks.save(image_id, mask, base_version=base)
                saves.append((image_id, save_id, saved.version))
            except ConflictError as error:
                saves.append((image_id, None, error.current_version))
            except Exception as error:  # every other failure is a finding
                errors.append(repr(error))
    out.put((saves, errors))


def save_figures(root: Path, annotators: int, seconds: float) -> list[object]:
    """Saves acknowledged (and per second), conflicts, lost writes, versions stored, errors."""
    with Workspace.open(root) as workspace:
        images = [i.id for i in workspace.images("train", sort="id", limit=2 * annotators)]
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["robustar.workspace"])  # imported once, not per annotator
    go, out = context.Event(), context.Queue()
    processes = [
        context.Process(target=annotate, args=(str(root), n, images, seconds, go, out))
        for n in range(1, annotators + 1)
    ]
    for process in processes:
        process.start()
    time.sleep(1.0)  # the annotators open the workspace before the clock starts
    go.set()
    saves: list[Save] = []
    errors: list[str] = []
    for _ in processes:
        more_saves, more_errors = out.get(timeout=seconds + 120)
        saves += more_saves
        errors += more_errors
    for process in processes:
        process.join(timeout=30)
    acks = [s for s in saves if s[1] is not None]
    with Workspace.open(root) as workspace:
        lost = sum(not _stored(workspace, *ack) for ack in acks)
        versions = sum(len(workspace.masks.history(i)) for i in images)
    return [
        f"{len(acks):,}",
        f"{len(acks) / seconds:,.1f}",
        f"{len(saves) - len(acks):,}",
        f"{lost}",
        f"{versions:,}",  # equal to the saves acknowledged: no version that nobody was told of
        f"{len(errors)}" + (f" ({errors[0][:60]})" if errors else ""),
    ]


def _stored(workspace: Workspace, image_id: int, save_id: int | None, version: int | None) -> bool:
    """The acknowledged version exists and holds exactly the pixels that save sent."""
    try:
        _, pixels = workspace.masks.load(image_id, version=version)
    except NotFoundError:
        return False
    return np.array_equal(pixels, tagged(save_id or 0, pixels.shape))


def gallery_figures(root: Path, repeats: int) -> list[object]:
    """p50 and p95 of the filtered, sorted gallery page over HTTP."""
    with Workspace.open(root) as workspace:
        page = filtered_pages(workspace)
        with serve_in_background(workspace) as base, httpx.Client(base_url=base) as client:
            client.get("/api/v1/images", params={"split": "train"})  # warm the caches
            p50, p95 = percentiles(timed(client, "/api/v1/images", page, repeats))
    return [f"{p50:.1f}", f"{p95:.1f}"]


def run(
    images: int = 100_000, annotators: int = 8, seconds: float = 60.0, repeats: int = 60
) -> str:
    sqlite_root = OUTPUT / "backends-sqlite"
    build_workspace(images, sqlite_root).close()
    postgres_root = OUTPUT / "backends-postgresql"
    with cluster() as server:
        shutil.rmtree(postgres_root, ignore_errors=True)
        shutil.copytree(sqlite_root, postgres_root)
        started = time.perf_counter()
        move_workspace(postgres_root, create_database(server, "bench"))
        moved = time.perf_counter() - started
        rows = [
            [name, *gallery_figures(root, repeats), *save_figures(root, annotators, seconds)]
            for name, root in (("SQLite", sqlite_root), ("PostgreSQL", postgres_root))
        ]
    return table(
        f"Database backends: {images:,}-image split; gallery = filtered page of 100 by loss over "
        f"HTTP, {repeats} requests; {annotators} annotator processes saving masks of "
        f"{2 * annotators} shared images for {seconds:g} s (lost must be 0); "
        f"db migrate to PostgreSQL took {moved:.1f} s",
        [
            "database",
            "gallery p50 ms",
            "gallery p95 ms",
            "saves acked",
            "saves/s",
            "conflicts",
            "lost",
            "versions stored",
            "errors",
        ],
        rows,
    )


if __name__ == "__main__":
    print(run())
