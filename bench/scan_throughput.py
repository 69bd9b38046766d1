"""Image-index scan throughput on 100,000 small files against a bare read-every-file loop."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import numpy as np
from PIL import Image

from bench.common import OUTPUT, table
from robustar.config import DataConfig, ImageConfig, RuntimeConfig, WorkspaceConfig
from robustar.workspace import Workspace

CLASSES = 10
SMOKE = {"count": 200}


def make_files(count: int) -> Path:
    """`count` PNGs in class folders, made once per count and kept between runs."""
    root = OUTPUT / f"scan-files-{count}" / "train"
    if root.is_dir() and sum(1 for _ in root.rglob("*.png")) == count:
        return root
    shutil.rmtree(root, ignore_errors=True)
    rng = np.random.default_rng(0)
    tiles = [rng.integers(0, 256, (16, 16, 3), dtype=np.uint8) for _ in range(64)]
    for i in range(count):
        folder = root / f"c{i % CLASSES}"
        if i < CLASSES:
            folder.mkdir(parents=True)
        Image.fromarray(np.roll(tiles[i % 64], i, axis=1)).save(folder / f"{i:06d}.png")
    return root


def bare_read(root: Path) -> int:
    """The floor: walk the tree and read every byte, nothing else."""
    n = 0
    for folder, _, files in os.walk(root):
        for name in files:
            with open(os.path.join(folder, name), "rb") as handle:
                handle.read()
            n += 1
    return n


def run(count: int = 100_000) -> str:
    train = make_files(count)
    workspace_dir = OUTPUT / "scan-ws"
    rows = []
    bare_read(train)  # the same warm page cache for every row
    started = time.perf_counter()
    files = bare_read(train)
    bare = time.perf_counter() - started
    rows.append(["bare read (baseline)", files, f"{bare:.1f}", f"{files / bare:,.0f}", "1.00"])
    for workers in (1, os.cpu_count() or 1):
        shutil.rmtree(workspace_dir, ignore_errors=True)
        config = WorkspaceConfig(
            data=DataConfig(train=str(train)),
            image=ImageConfig(size=16),
            runtime=RuntimeConfig(workers=workers),
        )
        started = time.perf_counter()
        workspace = Workspace.create(workspace_dir, config)
        first = time.perf_counter() - started
        images = workspace.count("train")
        rows.append(
            [
                f"first scan, {workers} process(es)",
                images,
                f"{first:.1f}",
                f"{images / first:,.0f}",
                f"{bare / first:.2f}",
            ]
        )
        started = time.perf_counter()
        (report,) = workspace.scan(["train"])
        again = time.perf_counter() - started
        assert report.unchanged == images
        rows.append(
            [
                f"rescan, nothing changed ({workers})",
                images,
                f"{again:.1f}",
                f"{images / again:,.0f}",
                f"{bare / again:.2f}",
            ]
        )
        workspace.close()
    return table(
        f"Image-index scan, {count:,} PNG files of 16x16 (target: well under 60 s)",
        ["run", "images", "seconds", "images/s", "speed vs bare read"],
        rows,
    )


if __name__ == "__main__":
    print(run())
