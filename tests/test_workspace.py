from pathlib import Path

import pytest

from robustar import Workspace
from robustar.errors import ConfigError, DataError, NotFoundError

from .conftest import folder_config, write_folder


def snapshot(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def test_create_then_open(tmp_path: Path, folders: dict[str, Path]) -> None:
    config = folder_config(folders["train"], test=str(folders["test"]))
    Workspace.create(tmp_path / "ws", config).close()
    assert (tmp_path / "ws/robustar.toml").is_file()
    assert (tmp_path / "ws/robustar.db").is_file()
    with Workspace.open(tmp_path / "ws") as ws:
        assert ws.classes == ["cat", "dog", "eel"]
        assert ws.count("train") == 15 and ws.count("test") == 8
        assert ws.current_model is None


def test_sqlite_uses_wal(workspace: Workspace) -> None:
    with workspace.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_database_url_from_configuration(tmp_path: Path, folders: dict[str, Path]) -> None:
    config = folder_config(folders["train"])
    config.database.url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    Workspace.create(tmp_path / "ws", config).close()
    assert (tmp_path / "elsewhere.db").is_file()
    assert not (tmp_path / "ws/robustar.db").exists()


def test_already_a_workspace(workspace: Workspace) -> None:
    with pytest.raises(ConfigError, match="already a Robustar workspace"):
        Workspace.create(workspace.root, workspace.config)


@pytest.mark.parametrize(
    "breakage",
    ["missing_split", "empty_class", "class_file_disagrees", "too_many_num_classes"],
)
def test_bad_input_leaves_no_trace(tmp_path: Path, folders: dict[str, Path], breakage: str) -> None:
    target = tmp_path / "existing"
    target.mkdir()
    (target / "keep.txt").write_text("the user's file")
    config = folder_config(folders["train"], test=str(folders["test"]))
    expected: type[Exception] = DataError
    if breakage == "missing_split":
        config.data.validation = str(tmp_path / "nope")
    elif breakage == "empty_class":
        (folders["test"] / "eel" / "img000.png").unlink()
        (folders["test"] / "eel" / "img001.png").unlink()
    elif breakage == "class_file_disagrees":
        (tmp_path / "classes.txt").write_text("cat\ndog\nfox\n")
        config.data.class_file = str(tmp_path / "classes.txt")
    else:
        config.model.num_classes = 4
        expected = ConfigError
    before = snapshot(target)
    with pytest.raises(expected) as caught:
        Workspace.create(target, config)
    assert caught.value.fix
    assert snapshot(target) == before
    with pytest.raises(ConfigError):
        Workspace.open(target)
    with pytest.raises(expected):
        Workspace.create(tmp_path / "fresh", config)
    assert not (tmp_path / "fresh").exists()


def test_class_file_orders_labels(tmp_path: Path, folders: dict[str, Path]) -> None:
    (tmp_path / "classes.txt").write_text("eel\ncat\ndog\n")
    config = folder_config(folders["train"], class_file=str(tmp_path / "classes.txt"))
    with Workspace.create(tmp_path / "ws", config) as ws:
        assert ws.classes == ["eel", "cat", "dog"]
        assert {i.label for i in ws.images("train", label="eel")} == {0}


def test_pool_is_unlabelled_and_may_nest(tmp_path: Path, folders: dict[str, Path]) -> None:
    pool = write_folder(tmp_path / "pool", {"a/b": 2, "c": 1})
    config = folder_config(folders["train"], pool=str(pool))
    with Workspace.create(tmp_path / "ws", config) as ws:
        images = ws.images("pool")
        assert {i.relpath for i in images} == {"a/b/img000.png", "a/b/img001.png", "c/img000.png"}
        assert all(i.label is None for i in images)


def test_unknown_ids_and_splits(workspace: Workspace) -> None:
    with pytest.raises(NotFoundError):
        workspace.image(10_000)
    with pytest.raises(NotFoundError):
        workspace.model(3)
    with pytest.raises(DataError, match="not configured"):
        workspace.images("validation")
    with pytest.raises(DataError, match="unknown class"):
        workspace.images("train", label="fox")
    with pytest.raises(NotFoundError, match="no model version"):
        workspace.predict("test")


def test_load_image_by_id(workspace: Workspace) -> None:
    image = workspace.images("test")[0]
    assert workspace.load_image(image.id).size == (12, 12)
    assert workspace.image_path(image.id).is_file()


def test_classes_are_named_or_indexed(workspace: Workspace) -> None:
    """Names come first; a string of digits that names no class is an index (the CLI's)."""
    assert workspace.classes == ["cat", "dog", "eel"]
    assert workspace.class_index("dog") == workspace.class_index("1") == workspace.class_index(1)
    assert workspace.class_index(None) is None
    for bad in ("3", 3, -1, "ox"):
        with pytest.raises(DataError, match="unknown class"):
            workspace.class_index(bad)
