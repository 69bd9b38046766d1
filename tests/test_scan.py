import os
import shutil
from pathlib import Path

import pytest
from PIL import Image

from robustar import Workspace
from robustar.errors import DataError

from .conftest import folder_config, write_folder


def ids_by_path(ws: Workspace, split: str) -> dict[str, int]:
    return {image.relpath: image.id for image in ws.images(split)}


def test_first_scan_indexes_every_image_once(workspace: Workspace) -> None:
    images = workspace.images("train")
    assert len(images) == 15
    assert len({i.relpath for i in images}) == 15
    cats = workspace.images("train", label="cat")
    assert {i.label for i in cats} == {0} and len(cats) == 6
    assert all(i.width == 12 and i.height == 12 and len(i.fingerprint) == 32 for i in images)
    assert workspace.class_counts("test") == {"cat": 3, "dog": 3, "eel": 2}


def test_identical_content_gets_identical_fingerprints(workspace: Workspace) -> None:
    train = workspace.folders["train"]
    shutil.copy(train / "cat/img000.png", train / "dog/copy.png")
    workspace.scan(["train"])
    by_path = {i.relpath: i.fingerprint for i in workspace.images("train")}
    assert by_path["cat/img000.png"] == by_path["dog/copy.png"]
    assert by_path["cat/img000.png"] != by_path["cat/img001.png"]


def test_rescan_is_incremental_and_ids_are_stable(workspace: Workspace) -> None:
    before = ids_by_path(workspace, "train")
    (report,) = workspace.scan(["train"])
    assert (report.unchanged, report.added, report.changed, report.removed) == (15, 0, 0, 0)

    train = workspace.folders["train"]
    (train / "cat/img000.png").unlink()
    Image.new("RGB", (30, 20), "red").save(train / "dog/img000.png")
    stat = (train / "dog/img000.png").stat()
    os.utime(train / "dog/img000.png", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    Image.new("RGB", (8, 8), "blue").save(train / "eel/new.png")
    (report,) = workspace.scan(["train"])
    assert (report.unchanged, report.added, report.changed, report.removed) == (13, 1, 1, 1)

    after = ids_by_path(workspace, "train")
    assert "cat/img000.png" not in after
    assert after["dog/img000.png"] == before["dog/img000.png"]
    assert all(after[p] == i for p, i in before.items() if p in after)
    changed = workspace.image(after["dog/img000.png"])
    assert (changed.width, changed.height) == (30, 20)


def test_corrupt_and_foreign_files_are_problems_not_failures(workspace: Workspace) -> None:
    train = workspace.folders["train"]
    (train / "cat/broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    (train / "cat/notes.txt").write_text("hello")
    (train / "loose.png").write_bytes((train / "dog/img001.png").read_bytes())
    (train / ".DS_Store").write_bytes(b"ignored")
    (report,) = workspace.scan(["train"])
    problems = dict(report.problems)
    assert set(problems) == {"cat/broken.png", "cat/notes.txt", "loose.png"}
    assert "not a readable image" in problems["cat/broken.png"]
    assert "not an image file" in problems["cat/notes.txt"]
    assert "not inside a class folder" in problems["loose.png"]
    assert report.images == 15
    assert len(workspace.problems("train")) == 3
    assert workspace.info().splits[0].problems == 3


def test_an_indexed_file_that_becomes_corrupt_leaves_the_index(workspace: Workspace) -> None:
    path = workspace.folders["train"] / "cat/img002.png"
    path.write_bytes(b"garbage")
    (report,) = workspace.scan(["train"])
    assert report.removed == 1
    assert "cat/img002.png" not in ids_by_path(workspace, "train")


def test_empty_class_folder_is_an_error_and_index_is_unchanged(workspace: Workspace) -> None:
    before = ids_by_path(workspace, "test")
    shutil.rmtree(workspace.folders["test"] / "eel")
    (workspace.folders["test"] / "eel").mkdir()
    with pytest.raises(DataError, match="class folder contains no images") as caught:
        workspace.scan(["test"])
    assert "eel" in caught.value.what
    assert ids_by_path(workspace, "test") == before


def test_unknown_class_folder_in_a_split_is_an_error(workspace: Workspace) -> None:
    write_folder(workspace.folders["test"] / "fox", {"": 1})
    with pytest.raises(DataError, match="not one of the classes"):
        workspace.scan(["test"])


def test_parallel_scan_matches_serial(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import robustar.data.scan as scan

    train = write_folder(tmp_path / "train", {"a": 30, "b": 30}, size=6)
    Path(train / "a/bad.png").write_bytes(b"nope")
    config = folder_config(train)
    config.runtime.workers = 2
    monkeypatch.setattr(scan, "PARALLEL_THRESHOLD", 10)
    with Workspace.create(tmp_path / "ws", config) as ws:
        parallel = {(i.relpath, i.fingerprint, i.label) for i in ws.images("train")}
        assert [p[1] for p in ws.problems()] == ["a/bad.png"]
    monkeypatch.setattr(scan, "PARALLEL_THRESHOLD", 10**9)
    with Workspace.create(tmp_path / "ws2", config) as ws:
        serial = {(i.relpath, i.fingerprint, i.label) for i in ws.images("train")}
    assert parallel == serial and len(serial) == 60


def test_links_out_of_the_split_are_problems_not_images(
    workspace: Workspace, tmp_path: Path
) -> None:
    train = workspace.folders["train"]
    outside = write_folder(tmp_path / "outside", {"many": 3}, seed=5)
    (train / "cat" / "elsewhere").symlink_to(outside / "many", target_is_directory=True)
    (train / "dog" / "one.png").symlink_to(outside / "many" / "img000.png")
    (train / "dog" / "loop").symlink_to(train / "dog", target_is_directory=True)
    (train / "eel" / "inside.png").symlink_to(train / "cat" / "img000.png")
    (report,) = workspace.scan(["train"])
    problems = dict(report.problems)
    assert "outside the split folder" in problems["cat/elsewhere"]
    assert "outside the split folder" in problems["dog/one.png"]
    assert "a loop" in problems["dog/loop"]
    assert report.images == 16  # 15, and the link inside the split
    assert not [i for i in workspace.images("train", limit=100) if "elsewhere" in i.relpath]


def test_a_class_folder_linked_from_outside_is_skipped(tmp_path: Path) -> None:
    train = write_folder(tmp_path / "train", {"cat": 2}, seed=1)
    outside = write_folder(tmp_path / "outside", {"dog": 4}, seed=2)
    (train / "dog").symlink_to(outside / "dog", target_is_directory=True)
    ws = Workspace.create(tmp_path / "ws", folder_config(train))
    assert ws.count("train") == 2
    assert [(p[1], p[2].split(",")[0]) for p in ws.problems("train")] == [
        ("dog", f"link to {(outside / 'dog').resolve()}")
    ]
