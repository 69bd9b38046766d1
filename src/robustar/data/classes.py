"""Resolve the class list from the configuration and check it against the split folders."""

from __future__ import annotations

from pathlib import Path

from robustar.config import DataConfig
from robustar.errors import DataError


def class_folders(split_root: Path) -> list[str]:
    return sorted(p.name for p in split_root.iterdir() if p.is_dir() and not p.name.startswith("."))


def _read_class_file(path: Path) -> list[str]:
    if not path.is_file():
        raise DataError(
            f"[data] class_file: {path} does not exist",
            "point class_file at a text file with one class name per line, or remove the field",
        )
    names = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    names = [n for n in names if n and not n.startswith("#")]
    if len(set(names)) != len(names):
        raise DataError(f"class file {path} lists a class twice", "keep one line per class")
    return names


def resolve_classes(data: DataConfig, train_root: Path, base: Path) -> list[str]:
    """Class names in label order: from `classes`, from `class_file`, or the train folders."""
    folders = class_folders(train_root)
    if data.classes is not None:
        names, source = list(data.classes), "[data] classes"
    elif data.class_file is not None:
        class_file = Path(data.class_file)
        names = _read_class_file(class_file if class_file.is_absolute() else base / class_file)
        source = f"class file {data.class_file}"
    else:
        names, source = folders, "train folder names"
    if len(names) < 2:
        raise DataError(
            f"{train_root}: found {len(names)} class(es) in {source}; at least 2 are needed",
            "put the images of each class in its own sub-folder of the train folder",
        )
    missing, extra = sorted(set(names) - set(folders)), sorted(set(folders) - set(names))
    if missing or extra:
        details = []
        if missing:
            details.append(f"classes without a train folder: {', '.join(missing)}")
        if extra:
            details.append(f"train folders that are not classes: {', '.join(extra)}")
        raise DataError(
            f"{source} disagrees with the folders of {train_root} ({'; '.join(details)})",
            "make the class list and the train sub-folder names match",
        )
    return names
