"""`robustar init --labels`: a CSV or JSON table over a flat folder of images, checked row by
row, kept inside the workspace and used wherever class folders would be."""

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from robustar import Workspace
from tests.test_cli import run


def flat_folder(root: Path, count: int = 12) -> Path:
    rng = np.random.default_rng(0)
    root.mkdir(parents=True)
    for i in range(count):
        pixels = rng.integers(0, 256, size=(12, 12, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(root / f"im{i:02d}.png")
    return root


def rows(count: int = 12) -> list[tuple[str, str, str]]:
    """im00..: cat/dog alternating; the first 8 train, then 2 test, then 2 pool."""
    split = ["train"] * 8 + ["test"] * 2 + ["pool"] * 2
    return [
        (f"im{i:02d}.png", "" if split[i] == "pool" else ("cat", "dog")[i % 2], split[i])
        for i in range(count)
    ]


def write_csv(path: Path, table: list[tuple[str, ...]], header: str = "file,label,split") -> Path:
    path.write_text("\n".join([header, *(",".join(r) for r in table)]) + "\n")
    return path


def init(monkeypatch, capsys, ws: Path, labels: Path, images: Path, *extra: str):
    return run(
        monkeypatch, capsys, "init", ws, "--labels", labels, "--images", images,
        "--architecture", "tiny_cnn", "--image-size", "16", "-q", *extra,
    )  # fmt: skip


def test_csv_labels_make_a_workspace_like_class_folders(tmp_path: Path, monkeypatch, capsys):
    images = flat_folder(tmp_path / "flat")
    before = sorted(p.name for p in images.iterdir())
    labels = write_csv(tmp_path / "labels.csv", rows())
    code, _, err = init(monkeypatch, capsys, tmp_path / "ws", labels, images)
    assert code == 0, err
    assert sorted(p.name for p in images.iterdir()) == before  # nothing written there
    with Workspace.open(tmp_path / "ws") as ws:
        assert ws.classes == ["cat", "dog"] and ws.config.data.labels == "labels.csv"
        assert (ws.root / "labels.csv").is_file()
        assert ws.class_counts("train") == {"cat": 4, "dog": 4}
        assert ws.class_counts("test") == {"cat": 1, "dog": 1}
        assert ws.count("pool") == 2
        labelled = {i.relpath: i.label for i in ws.images("test")}
        assert labelled == {"im08.png": 0, "im09.png": 1}
        version = ws.train(epochs=1, batch_size=8, seed=0)  # training and predictions work
        assert ws.predict("test").images == 2 and version.id == 1
        # labels.csv is the truth: a changed label is picked up by the next scan
        text = (ws.root / "labels.csv").read_text().replace("im08.png,cat", "im08.png,dog")
        (ws.root / "labels.csv").write_text(text)
    with Workspace.open(tmp_path / "ws") as ws:
        ws.scan(["test"])
        assert {i.relpath: i.label for i in ws.images("test")}["im08.png"] == 1


def test_json_labels_with_one_split_for_every_row(tmp_path: Path, monkeypatch, capsys):
    images = flat_folder(tmp_path / "flat", 6)
    entries = [{"file": f"im{i:02d}.png", "label": ("cat", "dog")[i % 2]} for i in range(6)]
    labels = tmp_path / "labels.json"
    labels.write_text(json.dumps(entries))
    code, _, err = init(monkeypatch, capsys, tmp_path / "ws", labels, images, "--split", "train")
    assert code == 0, err
    with Workspace.open(tmp_path / "ws") as ws:
        assert list(ws.folders) == ["train"] and ws.class_counts("train") == {"cat": 3, "dog": 3}


BAD_ROWS = {
    "unknown file": ([("nope.png", "cat", "train")], "row 13 (line 14): file 'nope.png' is not in"),
    "empty label": ([("im00.png", "", "train")], "row 1 (line 2): no label for a train image"),
    "duplicate": (
        [("im00.png", "dog", "train")],
        "row 13 (line 14): file 'im00.png' is listed again (first in row 1 (line 2))",
    ),
    "bad split": ([("im00.png", "cat", "tran")], "split 'tran' is not one of train,"),
    "escaping file": ([("../x.png", "cat", "train")], "is outside the image folder"),
    "label on pool": ([("im10.png", "cat", "pool")], "pool images are unlabelled"),
}


@pytest.mark.parametrize("case", list(BAD_ROWS))
def test_each_bad_row_is_named_and_nothing_is_created(
    case: str, tmp_path: Path, monkeypatch, capsys
) -> None:
    images = flat_folder(tmp_path / "flat")
    extra, message = BAD_ROWS[case]
    table = rows()
    if case in ("empty label", "bad split", "label on pool"):
        index = {"im00.png": 0, "im10.png": 10}[extra[0][0]]
        table[index] = extra[0]
    else:
        table += extra
    labels = write_csv(tmp_path / "labels.csv", table)
    code, _, err = init(monkeypatch, capsys, tmp_path / "ws", labels, images)
    assert code == 2 and message in " ".join(err.split()), err
    assert "fix" in err and not (tmp_path / "ws").exists()


def test_unknown_labels_against_a_class_file_and_other_mistakes(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    images = flat_folder(tmp_path / "flat")
    labels = write_csv(tmp_path / "labels.csv", rows())
    (tmp_path / "classes.txt").write_text("cat\nbird\n")
    ws = tmp_path / "ws"
    code, _, err = init(
        monkeypatch, capsys, ws, labels, images, "--class-file", tmp_path / "classes.txt"
    )
    assert code == 2 and "label 'dog' is not one of the classes (cat, bird)" in err
    code, _, err = init(monkeypatch, capsys, ws, labels, images, "--split", "train")
    assert code == 2 and "but --split train was given" in err
    code, _, err = init(monkeypatch, capsys, ws, labels, images, "--train", images)
    assert code == 2 and "drop --train" in err
    no_split = write_csv(tmp_path / "two.csv", [r[:2] for r in rows(8)], "file,label")
    code, _, err = init(monkeypatch, capsys, ws, no_split, images)
    assert code == 2 and "fill the split column or give --split train" in err
    assert not ws.exists()
