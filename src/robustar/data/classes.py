"""Resolve the class list from the configuration and check it against the split folders."""

from __future__ import annotations

from pathlib import Path

from robustar.config import DataConfig
from robustar.data.labelmaps import LabelClasses
from robustar.errors import DataError


def class_folders(split_root: Path) -> list[str]:
    return sorted(p.name for p in split_root.iterdir() if p.is_dir() and not p.name.startswith("."))


def read_names(path: Path) -> list[str]:
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


def read_class_file(data: DataConfig, base: Path) -> list[str] | None:
    """The class list `classes` or `class_file` gives, or None when neither is set."""
    if data.classes is not None:
        return list(data.classes)
    if data.class_file is None:
        return None
    class_file = Path(data.class_file)
    return read_names(class_file if class_file.is_absolute() else base / class_file)


def resolve_classes(
    data: DataConfig, train_root: Path, base: Path, labels: list[str] | None = None
) -> list[str]:
    """Class names in label order: from `classes`, from `class_file`, or the train folders
    (with a labels table, `labels`: the label names it uses, in place of the folders)."""
    found = class_folders(train_root) if labels is None else labels
    where = "train folder" if labels is None else "label in the labels file"
    given = read_class_file(data, base)
    if given is not None:
        names = given
        source = "[data] classes" if data.classes is not None else f"class file {data.class_file}"
    else:
        names, source = found, f"{where} names"
    if len(names) < 2:
        raise DataError(
            f"{train_root}: found {len(names)} class(es) in {source}; at least 2 are needed",
            "put the images of each class in its own sub-folder of the train folder"
            if labels is None
            else "label the images with at least 2 classes",
        )
    missing, extra = sorted(set(names) - set(found)), sorted(set(found) - set(names))
    if missing or extra:
        details = []
        if missing:
            details.append(f"classes without a {where}: {', '.join(missing)}")
        if extra:
            details.append(f"{where}s that are not classes: {', '.join(extra)}")
        raise DataError(
            f"{source} disagrees with the {where}s of {train_root} ({'; '.join(details)})",
            f"make the class list and the {where} names match",
        )
    return names


def segmentation_classes(data: DataConfig, base: Path) -> LabelClasses:
    """A segmentation task's classes with their colours and ignore index, from `classes`
    (and `colours`) or from `class_file` (lines 'name' or 'name #rrggbb')."""
    if data.classes is not None:
        return LabelClasses.of(data.classes, data.colours, data.ignore_index)
    assert data.class_file is not None  # the configuration requires one of the two
    class_file = Path(data.class_file)
    path = class_file if class_file.is_absolute() else base / class_file
    return LabelClasses.read(path, data.ignore_index)
