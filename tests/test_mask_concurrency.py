"""Mask saves are linearizable: Python-API writers in several processes and REST clients of a
live server save one mask at once; every acknowledged save must be a version of its own whose
file holds exactly the pixels it sent, and every refused save a conflict (never a 5xx)."""

from __future__ import annotations

import io
import multiprocessing
import random
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image

from robustar import Workspace
from robustar.annotations.transfer.pngs import file_name
from robustar.errors import ConflictError
from robustar.server.background import serve_in_background

# every test here runs on SQLite and on PostgreSQL (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("database_url")

PROCESSES = 3
PROPOSALS_EACH = 6
REST_THREADS = 3
SECONDS = 4.0
ID_BITS = 24

# (face, save id or None, restored version or None, outcome, version or current version)
Result = tuple[str, int | None, int | None, str, Any]


def tagged(save_id: int, shape: tuple[int, int]) -> np.ndarray:
    """A mask that only this save sends: its id in binary in the first pixels."""
    mask = np.zeros(shape, dtype=bool)
    mask.flat[:ID_BITS] = (save_id >> np.arange(ID_BITS)) & 1
    mask.flat[ID_BITS] = True
    return mask


def png(mask: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(mask.astype(np.uint8) * 255).save(buffer, format="PNG")
    return buffer.getvalue()


def python_writer(
    root: str, image_id: int, writer: int, proposals: list[int], ready: Any, go: Any, out: Any
) -> None:
    """One process: save (based on the version read just before), set, restore, accept one of
    its own proposals with an edit, or import a mask folder, for a while."""
    results: list[Result] = []
    rng = random.Random(writer)
    faces = ["python save", "python set", "python restore", "python accept", "python import"]
    with Workspace.open(root) as ws, tempfile.TemporaryDirectory() as scratch:
        image = ws.image(image_id)
        shape = (image.height, image.width)
        ready.put(writer)
        go.wait()
        deadline = time.monotonic() + SECONDS
        sequence = 0
        while time.monotonic() < deadline:
            time.sleep(rng.uniform(0, 0.03))  # leave the server's clients a share of the cores
            sequence += 1
            save_id = writer * 100_000 + sequence
            mask = tagged(save_id, shape)
            current = ws.masks.current(image_id)
            base = None if current is None else current.version
            face = rng.choices(faces, [3, 1, 1, 1, 1])[0]
            if (face == "python restore" and base is None) or (
                face == "python accept" and not proposals
            ):
                face = "python save"
            try:
                if face == "python restore" and base is not None:
                    old = rng.randint(1, base)
                    saved = ws.masks.restore(image_id, old, base_version=base)
                    results.append((face, None, old, "ok", saved.version))
                    continue
                version: int | None = None  # accept and import do not say; found by pixels
                if face == "python set":
                    version = ws.masks.set(image_id, mask).version
                elif face == "python accept":
                    ws.masks.accept(proposals.pop(), edited=mask)
                elif face == "python import":
                    folder = Path(scratch) / str(save_id)
                    target = folder / file_name(f"{image.split}/{image.relpath}")
                    target.parent.mkdir(parents=True)
                    target.write_bytes(png(mask))
                    ws.masks.import_from(folder)
                else:
                    version = ws.masks.save(image_id, mask, base_version=base).version
                results.append((face, save_id, None, "ok", version))
            except ConflictError as error:
                results.append((face, None, None, "conflict", error.current_version))
            except Exception as error:  # every other failure is a finding
                results.append((face, None, None, "error", repr(error)))
    out.put(results)


def rest_writer(
    url: str, image_id: int, writer: int, shape: tuple[int, int], results: list[Result]
) -> None:
    """One thread: PUT (or restore) with the base version read just before."""
    rng = random.Random(writer)
    mask_url = f"{url}/api/v1/images/{image_id}/masks/spurious"
    deadline = time.monotonic() + SECONDS
    sequence = 0
    with httpx.Client(timeout=30) as client:
        while time.monotonic() < deadline:
            sequence += 1
            save_id = writer * 100_000 + sequence
            history = client.get(f"{mask_url}/versions").json()
            base = history[-1]["version"] if history else None
            params = {} if base is None else {"base_version": base}
            restored = None
            if rng.random() < 0.25 and base is not None:
                restored = rng.randint(1, base)
                answer = client.post(f"{mask_url}/restore", params={**params, "version": restored})
                face, save_id = "rest restore", None
            else:
                answer = client.put(mask_url, params=params, content=png(tagged(save_id, shape)))
                face = "rest put"
            if answer.status_code == 200:
                results.append((face, save_id, restored, "ok", answer.json()["version"]))
            elif answer.status_code == 409:
                results.append((face, None, None, "conflict", answer.json()["current_version"]))
            else:
                results.append((face, None, None, "error", f"{answer.status_code} {answer.text}"))


def test_concurrent_saves_from_processes_and_rest_lose_nothing(workspace: Workspace) -> None:
    image_id = workspace.images("train", limit=1)[0].id
    image = workspace.image(image_id)
    shape = (image.height, image.width)
    for _ in range(PROCESSES * PROPOSALS_EACH):  # one pending proposal per run, for the image
        workspace.masks.auto_annotate(
            split="train", method="colour", colours=[(0, 0, 0)], tolerance=255, limit=1
        )
    pending = [p.id for p in workspace.masks.proposals(limit=500)[1] if p.image_id == image_id]
    assert len(pending) == PROCESSES * PROPOSALS_EACH
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["robustar.workspace"])
    ready, out, go = context.Queue(), context.Queue(), context.Event()
    processes = [
        context.Process(
            target=python_writer,
            args=(str(workspace.root), image_id, n, pending[n - 1 :: PROCESSES], ready, go, out),
        )
        for n in range(1, PROCESSES + 1)
    ]
    for process in processes:
        process.start()
    for _ in processes:
        ready.get(timeout=60)
    results: list[Result] = []
    with serve_in_background(workspace) as url:
        threads = [
            threading.Thread(target=rest_writer, args=(url, image_id, n, shape, results))
            for n in range(PROCESSES + 1, PROCESSES + REST_THREADS + 1)
        ]
        go.set()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for _ in processes:
            results.extend(out.get(timeout=60))
    for process in processes:
        process.join(timeout=30)

    history = workspace.masks.history(image_id)
    stored = {v.version: workspace.masks.get(image_id, version=v.version) for v in history}
    named = {r[4] for r in results if r[3] == "ok" and r[4] is not None}
    acks = []
    for face, save_id, restored, outcome, version in results:
        if outcome == "ok" and version is None:  # accept, import: the one other version so tagged
            found = [
                v
                for v, pixels in stored.items()
                if v not in named and np.array_equal(pixels, tagged(save_id, shape))
            ]
            version = found[0] if len(found) == 1 else -len(found)
        if outcome == "ok":
            acks.append((face, save_id, restored, outcome, version))
    mismatched = []
    for face, save_id, restored, _, version in acks:
        expected = tagged(save_id, shape) if save_id is not None else stored.get(restored)
        if version in stored and not np.array_equal(stored[version], expected):
            mismatched.append((face, save_id, restored, version))
    lost = [a for a in acks if a[4] not in stored]
    shared = [v for v, n in Counter(a[4] for a in acks).items() if n > 1]
    figures = {
        "attempted": len(results),
        "acknowledged": len(acks),
        "conflicts": sum(r[3] == "conflict" for r in results),
        "lost": len(lost),
        "mismatched": len(mismatched),
        "errors": sum(r[3] == "error" for r in results),
        "5xx": sum(r[3] == "error" and str(r[4]).startswith("5") for r in results),
        "attempted by face": dict(Counter(r[0] for r in results)),
        "acknowledged by face": dict(Counter(r[0] for r in acks)),
        "first errors": [r[4] for r in results if r[3] == "error"][:3],
    }
    print(figures)
    assert figures["errors"] == 0 and not lost and not mismatched and not shared, figures
    assert len(acks) > 20 and figures["conflicts"] > 0, figures
    # every stored version was acknowledged to exactly one writer, and only the newest is current
    assert (
        sorted(a[4] for a in acks)
        == [v.version for v in history]
        == list(range(1, len(history) + 1))
    )
    assert [v.is_current for v in history] == [False] * (len(history) - 1) + [True]
    assert all(isinstance(r[4], int) for r in results if r[3] == "conflict")
    assert not [p.exitcode for p in processes if p.exitcode != 0]
    # losers leave no files behind: the folder holds exactly the stored versions' files
    folder = workspace.root / "annotations" / "masks" / str(image_id) / "spurious"
    assert len(list(folder.iterdir())) == len(history)
