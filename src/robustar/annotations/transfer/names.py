"""How exported files name images, and which workspace image an imported name means."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from robustar.errors import DataError


@dataclass(frozen=True)
class Row:
    """A workspace image as an import matches it."""

    id: int
    split: str
    relpath: str
    width: int
    height: int

    @property
    def name(self) -> str:
        return f"{self.split}/{self.relpath}"


def image_path(folders: dict[str, Path], split: str, relpath: str) -> str:
    """The image's absolute path, lexically (no link resolved, nothing opened)."""
    return PurePosixPath(os.path.abspath(folders[split] / relpath)).as_posix()


def _stem(name: str) -> str:
    return str(PurePosixPath(name).with_suffix(""))


class Naming:
    """Names for exported images: `<split>/<relpath>`, relative to a root, or absolute."""

    def __init__(
        self, folders: dict[str, Path], root: str | None, absolute: bool, prefix: str
    ) -> None:
        if root is not None and absolute:
            raise DataError(
                "both an image root and absolute paths were asked for", "give one of the two"
            )
        self.folders = folders
        self.root = None if root is None else PurePosixPath(os.path.abspath(root))
        self.absolute = absolute
        self.prefix = prefix

    def __call__(self, split: str, relpath: str) -> str:
        if self.root is None and not self.absolute:
            return self.prefix + f"{split}/{relpath}"
        path = PurePosixPath(image_path(self.folders, split, relpath))
        if self.root is None:
            return self.prefix + path.as_posix()
        if not path.is_relative_to(self.root):
            raise DataError(
                f"image {split}/{relpath} lies at {path}, outside the image root {self.root}",
                "give a folder that holds every exported image, or absolute paths",
            )
        return self.prefix + path.relative_to(self.root).as_posix()


class Matcher:
    """Finds the image each imported name means, by path or by stem (see ImportOptions)."""

    def __init__(
        self,
        rows: Iterable[Row],
        folders: dict[str, Path],
        match: str,
        split: str | None,
        root: str | None,
    ) -> None:
        self.match = match
        self.root = None if root is None else os.path.abspath(root)
        self.keys: dict[str, list[Row]] = {}
        for row in rows:
            if split is not None and row.split != split:
                continue
            if match == "stem":
                names = [PurePosixPath(row.relpath).stem]
            else:
                absolute = image_path(folders, row.split, row.relpath)
                names = [row.name, absolute, _stem(row.name), _stem(absolute)]
                if split is not None:
                    names += [row.relpath, _stem(row.relpath)]
            for name in dict.fromkeys(names):
                self.keys.setdefault(name, []).append(row)

    def __call__(self, name: str) -> list[Row]:
        """The images `name` may mean: one, none or several."""
        if self.match == "stem":
            return self.keys.get(PurePosixPath(name).stem, [])
        path = name
        if self.root is not None and not os.path.isabs(name):
            path = PurePosixPath(os.path.abspath(os.path.join(self.root, name))).as_posix()
        return self.keys.get(path) or self.keys.get(_stem(path), [])
