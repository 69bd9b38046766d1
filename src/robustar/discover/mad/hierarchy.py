"""Class distances from a class hierarchy (a tree file: each class and its parent).

MAD ranks two disagreeing predictions by how far apart the classes are. With no tree every
pair of different classes is 1 apart. With a tree the distance is the depth-weighted path
length through the lowest common ancestor: an edge from a node at depth d to its parent
weighs 1/d, so a split near the root (a cat against a truck) costs more than one near the
leaves (two breeds of dog); the sum is divided by the largest distance, so it lies in (0, 1].
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np

from robustar.errors import DataError

TREE_FIX = (
    "give a CSV with columns 'class,parent' (or JSON {class: parent}); each class of the "
    "workspace once, parents may be inner nodes named nowhere else, a root has an empty parent"
)


def read_tree(text: str, name: str = "class tree") -> dict[str, str | None]:
    """Parse `class,parent` rows (CSV) or a JSON object into child -> parent."""
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError as error:
            raise DataError(f"{name} is not valid JSON: {error}", TREE_FIX) from None
        if not all(
            isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in data.items()
        ):
            raise DataError(f"{name} must map class names to parent names", TREE_FIX)
        return {k: v or None for k, v in data.items()}
    parents: dict[str, str | None] = {}
    for line, row in enumerate(csv.reader(io.StringIO(stripped)), 1):
        if not row or (line == 1 and [c.strip().lower() for c in row] == ["class", "parent"]):
            continue
        if len(row) != 2:
            raise DataError(f"{name} line {line}: expected 'class,parent', got {row!r}", TREE_FIX)
        child, parent = row[0].strip(), row[1].strip()
        if child in parents:
            raise DataError(f"{name} line {line}: class {child!r} appears twice", TREE_FIX)
        parents[child] = parent or None
    return parents


def load_tree(path: str | Path) -> dict[str, str | None]:
    path = Path(path).expanduser()
    if not path.is_file():
        raise DataError(f"class tree {path} does not exist", TREE_FIX)
    return read_tree(path.read_text(encoding="utf-8"), str(path))


def _ancestors(node: str, parents: dict[str, str | None]) -> list[str]:
    """node, its parent, ..., the root; a cycle is an error."""
    path = [node]
    while (parent := parents.get(path[-1])) is not None:
        if parent in path:
            raise DataError(f"the class tree has a cycle through {parent!r}", TREE_FIX)
        path.append(parent)
    return path


def distances(classes: list[str], parents: dict[str, str | None] | None) -> np.ndarray:
    """The (C, C) matrix of class distances: 1 off the diagonal without a tree."""
    n = len(classes)
    if parents is None:
        return 1.0 - np.eye(n)
    missing = [c for c in classes if c not in parents]
    if missing:
        raise DataError(f"the class tree does not name the classes {missing}", TREE_FIX)
    paths = [_ancestors(c, parents) for c in classes]
    depth = {node: len(_ancestors(node, parents)) - 1 for path in paths for node in path}
    matrix = np.zeros((n, n))
    for i, a in enumerate(paths):
        for j in range(i + 1, n):
            b = set(paths[j])
            common = next((node for node in a if node in b), None)
            if common is None:
                raise DataError(
                    f"classes {classes[i]!r} and {classes[j]!r} share no root", TREE_FIX
                )
            edges = [node for node in a[: a.index(common)]]
            edges += paths[j][: paths[j].index(common)]
            matrix[i, j] = matrix[j, i] = sum(1.0 / max(depth[node], 1) for node in edges)
    top = matrix.max()
    return matrix / top if top > 0 else matrix
