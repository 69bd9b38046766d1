"""`robustar import-hf`: a Hugging Face image dataset (save_to_disk, or an imagefolder) becomes a
workspace, with nothing written outside it."""

import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from robustar import Workspace
from tests.conftest import write_folder
from tests.test_cli import run

datasets = pytest.importorskip("datasets")


def _images(count: int, seed: int) -> list[Image.Image]:
    rng = np.random.default_rng(seed)
    return [
        Image.fromarray(rng.integers(0, 256, (10, 14, 3), dtype=np.uint8)) for _ in range(count)
    ]


def saved_dataset(path: Path) -> Path:
    """Built offline: from_dict with an Image feature and a ClassLabel, then save_to_disk."""
    features = datasets.Features(
        {"img": datasets.Image(), "label": datasets.ClassLabel(names=["ant", "bee", "cow"])}
    )

    def split(count: int, seed: int, labels: list[int]) -> object:
        return datasets.Dataset.from_dict(
            {"img": _images(count, seed), "label": labels}, features=features
        )

    splits = {
        "train": split(9, 0, [0, 1, 2] * 3),
        "validation": split(3, 1, [2, 1, 0]),
        "test": split(4, 2, [0, 1, -1, -1]),  # -1: datasets' "no label" goes to the pool
    }
    datasets.DatasetDict(splits).save_to_disk(str(path))
    return path


def _files(folder: Path) -> dict[Path, float]:
    return {p: p.stat().st_mtime for p in folder.rglob("*")}


def test_a_saved_dataset_becomes_a_workspace(tmp_path: Path, monkeypatch, capsys) -> None:
    source = saved_dataset(tmp_path / "hf")
    before = _files(source)
    ws = tmp_path / "ws"
    args = ["import-hf", ws, source, "--architecture", "tiny_cnn", "-q", "--mean", "0.5"]
    code, out, err = run(monkeypatch, capsys, *args)
    assert code == 0, err
    assert "model: tiny_cnn at 16 px, proposed from the data" in out  # from the image sizes
    assert _files(source) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hf", "ws"]
    with Workspace.open(ws) as workspace:
        assert workspace.classes == ["ant", "bee", "cow"]
        assert workspace.class_counts("train") == {"ant": 3, "bee": 3, "cow": 3}
        assert workspace.class_counts("validation") == {"ant": 1, "bee": 1, "cow": 1}
        assert workspace.class_counts("test") == {"ant": 1, "bee": 1, "cow": 0}
        assert workspace.count("pool") == 2
        assert workspace.config.image.mean == [0.5] * 3
        first = workspace.images("train", limit=1)[0]
        assert first.relpath == "train/000000.png" and first.width == 14
        assert workspace.image_path(first.id).is_relative_to(ws / "images")
        assert not (ws / ".hf-cache").exists()


def test_a_local_imagefolder_with_split_folders(tmp_path: Path, monkeypatch, capsys) -> None:
    source = tmp_path / "folder"
    write_folder(source / "train", {"cat": 3, "dog": 2}, seed=1)
    write_folder(source / "test", {"cat": 1, "dog": 2}, seed=2)
    before = _files(source)
    ws = tmp_path / "ws"
    args = ["import-hf", ws, source, "--architecture", "tiny_cnn", "--image-size", "16", "-q"]
    code, _, err = run(monkeypatch, capsys, *args)
    assert code == 0, err
    assert _files(source) == before and not (ws / ".hf-cache").exists()
    with Workspace.open(ws) as workspace:
        assert workspace.classes == ["cat", "dog"]
        assert workspace.class_counts("test") == {"cat": 1, "dog": 2}


def test_a_single_dataset_takes_split_and_a_failure_leaves_nothing(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    features = datasets.Features({"image": datasets.Image(), "label": datasets.Value("int64")})
    plain = datasets.Dataset.from_dict({"image": _images(2, 0), "label": [0, 1]}, features=features)
    plain.save_to_disk(str(tmp_path / "plain"))
    code, _, err = run(monkeypatch, capsys, "import-hf", tmp_path / "ws", tmp_path / "plain", "-q")
    assert code == 2 and "no ClassLabel column" in err and "cast_column" in err
    assert not (tmp_path / "ws").exists()
    source = saved_dataset(tmp_path / "hf")
    code, _, err = run(monkeypatch, capsys, "import-hf", tmp_path / "ws", source, "--split", "test")
    assert code == 2 and "drop --split" in err and not (tmp_path / "ws").exists()


def test_without_datasets_the_fix_names_the_extra(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setitem(sys.modules, "datasets", None)
    code, _, err = run(monkeypatch, capsys, "import-hf", tmp_path / "ws", tmp_path, "-q")
    assert code == 2 and "pip install 'robustar[hf]'" in err
