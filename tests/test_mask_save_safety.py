"""Mask saves under stress: a PUT waiting for the database does not stall other requests, a
save that cannot get the lock or loses is a conflict that leaves no file behind, and uploads
or GrabCut boxes the tools cannot handle are clear 400s instead of server errors."""

from __future__ import annotations

import io
import sqlite3
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import numpy as np
import psycopg
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import text
from sqlalchemy.orm import Session

from robustar import Workspace
from robustar.annotations import store
from robustar.db.tables import Image as ImageRow
from robustar.errors import ConflictError, NotFoundError
from robustar.server.app import create_app
from robustar.server.background import serve_in_background

# the database-facing tests here run on SQLite and on PostgreSQL (tests/conftest.py)
on_both = pytest.mark.usefixtures("database_url")


@contextmanager
def other_writer(ws: Workspace) -> Iterator[sqlite3.Connection | psycopg.Connection]:
    """A connection of another process, outside the workspace's pool; rolled back at the end."""
    if ws.engine.dialect.name == "sqlite":
        holder: sqlite3.Connection | psycopg.Connection = sqlite3.connect(ws.root / "robustar.db")
    else:
        url = ws.engine.url.set(drivername="postgresql")
        holder = psycopg.connect(url.render_as_string(hide_password=False))
    try:
        yield holder
    finally:
        holder.rollback()
        holder.close()


@contextmanager
def holding_the_save_lock(ws: Workspace, image_id: int) -> Iterator[None]:
    """Another transaction holds what a save of the image's masks waits for: SQLite's write
    lock, PostgreSQL's row lock on the image."""
    with other_writer(ws) as holder:
        if isinstance(holder, sqlite3.Connection):
            holder.execute("BEGIN IMMEDIATE")
        else:
            holder.execute("SELECT id FROM images WHERE id = %s FOR UPDATE", (image_id,))
        yield


def wait_briefly(session: Session) -> None:
    """Give up on a lock after 100 ms instead of 10 s, in this session only."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("PRAGMA busy_timeout = 100"))
    else:
        session.execute(text("SET LOCAL lock_timeout = 100"))


def png(mask: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(mask.astype(np.uint8) * 255).save(buffer, format="PNG")
    return buffer.getvalue()


def mask_files(ws: Workspace, image_id: int) -> list[str]:
    folder = ws.root / store.MASKS_DIR / str(image_id) / "spurious"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def first_image(ws: Workspace) -> tuple[int, tuple[int, int]]:
    image = ws.images("train", limit=1)[0]
    return image.id, (image.height, image.width)


@on_both
def test_a_put_waiting_for_the_database_does_not_stall_other_requests(
    workspace: Workspace,
) -> None:
    image_id, shape = first_image(workspace)
    answers: list[httpx.Response] = []
    with serve_in_background(workspace) as url:
        # another process is writing to the workspace
        with holding_the_save_lock(workspace, image_id):
            put = threading.Thread(
                target=lambda: answers.append(
                    httpx.put(
                        f"{url}/api/v1/images/{image_id}/masks/spurious",
                        content=png(np.ones(shape, dtype=bool)),
                        timeout=30,
                    )
                )
            )
            put.start()
            deadline = time.monotonic() + 10
            while not mask_files(workspace, image_id):  # its file is written: it waits
                assert time.monotonic() < deadline, "the PUT never reached the database"
                time.sleep(0.02)
            started = time.monotonic()
            assert httpx.get(f"{url}/api/v1/health", timeout=5).status_code == 200
            assert time.monotonic() - started < 5 and put.is_alive()  # answered while it waits
        put.join(timeout=15)  # the lock is free
    assert answers[0].status_code == 200 and answers[0].json()["version"] == 1
    assert np.array_equal(workspace.masks.get(image_id), np.ones(shape, dtype=bool))


@on_both
def test_a_save_that_cannot_get_the_lock_is_a_conflict_and_leaves_no_file(
    workspace: Workspace,
) -> None:
    image_id, shape = first_image(workspace)
    workspace.masks.save(image_id, np.ones(shape, dtype=bool))
    with (
        holding_the_save_lock(workspace, image_id),
        pytest.raises(ConflictError) as raised,
        workspace.session() as session,
    ):
        wait_briefly(session)
        mask = np.zeros(shape, dtype=bool)
        store.save_mask(session, workspace.root, image_id, "spurious", mask, 1, "me")
    assert raised.value.current_version == 1 and "save again" in (raised.value.fix or "")
    assert len(mask_files(workspace, image_id)) == 1
    assert [v.version for v in workspace.masks.history(image_id)] == [1]


@on_both
def test_a_new_version_file_goes_when_the_transaction_rolls_back(workspace: Workspace) -> None:
    image_id, shape = first_image(workspace)
    with pytest.raises(RuntimeError), workspace.session() as session:
        mask = np.ones(shape, dtype=bool)
        store.save_mask(session, workspace.root, image_id, "spurious", mask, None, "me")
        assert len(mask_files(workspace, image_id)) == 1
        raise RuntimeError("a later step of the same transaction failed")
    assert mask_files(workspace, image_id) == []
    assert workspace.masks.current(image_id) is None
    saved = workspace.masks.save(image_id, np.ones(shape, dtype=bool))
    assert saved.version == 1 and len(mask_files(workspace, image_id)) == 1


@on_both
def test_a_save_for_an_image_removed_meanwhile_is_a_404_and_leaves_no_file(
    workspace: Workspace,
) -> None:
    image_id, shape = first_image(workspace)
    with pytest.raises(NotFoundError), workspace.session() as session:
        session.get(ImageRow, image_id)  # this session saw the image before a rescan removed it
        with other_writer(workspace) as other:
            other.execute(f"DELETE FROM images WHERE id = {int(image_id)}")
            other.commit()
        mask = np.ones(shape, dtype=bool)
        store.save_mask(session, workspace.root, image_id, "spurious", mask, None, "me")
    assert mask_files(workspace, image_id) == []


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height, with no pixel data to back it."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b""))
        + chunk(b"IEND", b"")
    )


def test_a_mask_claiming_a_huge_size_is_a_clear_400(workspace: Workspace) -> None:
    image_id, _ = first_image(workspace)
    client = TestClient(create_app(workspace))
    answer = client.put(
        f"/api/v1/images/{image_id}/masks/spurious", content=png_header_only(20000, 20000)
    )
    assert answer.status_code == 400, answer.text
    assert "size" in answer.json()["detail"] and "native size" in answer.json()["fix"]
    assert workspace.masks.current(image_id) is None


def test_grabcut_boxes_without_background_or_object_are_clear_400s(workspace: Workspace) -> None:
    image_id, (height, width) = first_image(workspace)
    client = TestClient(create_app(workspace))
    url = f"/api/v1/images/{image_id}/grabcut"
    whole = client.post(url, json={"box": [0, 0, width, height]})
    assert whole.status_code == 400, whole.text
    assert "whole image" in whole.json()["detail"] and "background" in whole.json()["fix"]
    beyond = client.post(url, json={"box": [-5, -5, width + 5, height + 5]})
    assert beyond.status_code == 400
    covered = client.post(
        url, json={"box": [2, 2, 4, 4], "background": [[2, 2], [3, 3], [2, 3], [3, 2]]}
    )
    assert covered.status_code == 400 and "background points" in covered.json()["detail"]
    marked = client.post(url, json={"box": [0, 0, width, height], "background": [[1, 1]]})
    assert marked.status_code == 200 and marked.headers["content-type"] == "image/png"
