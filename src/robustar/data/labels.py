"""Labels from a table instead of class folders: one row per image (file, label, split) over a
flat folder of images. `robustar init --labels` checks the user's CSV or JSON file and keeps a
normalised copy, labels.csv, inside the workspace ([data] labels); the scan reads the split's
rows from it where it would read class folders. The user's image folder is never written."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from robustar.config import LABELLED_SPLITS, SPLITS
from robustar.errors import DataError
from robustar.storage import atomic_bytes

LABELS_FILE = "labels.csv"
COLUMNS = ("file", "label", "split")
_SHOWN = 10  # problems listed in one error


@dataclass(frozen=True)
class LabelRow:
    file: str  # relative to the image folder, with "/" between folders
    label: str | None  # None: an unlabelled (pool) image
    split: str


@dataclass(frozen=True)
class LabelTable:
    rows: list[LabelRow]

    @property
    def splits(self) -> list[str]:
        present = {r.split for r in self.rows}
        return [s for s in SPLITS if s in present]

    @property
    def classes(self) -> list[str]:
        """The label names, sorted: the class order unless a class list says otherwise."""
        return sorted({r.label for r in self.rows if r.label is not None})

    def listed(self, split: str, classes: list[str]) -> dict[str, int | None]:
        """The split's files and their class indices (None for the pool)."""
        index = {name: i for i, name in enumerate(classes)}
        return {
            r.file: None if r.label is None else index[r.label]
            for r in self.rows
            if r.split == split
        }

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows((r.file, r.label or "", r.split) for r in self.rows)
        return out.getvalue()

    def write(self, path: Path) -> None:
        atomic_bytes(path, self.to_csv().encode("utf-8"))


# A source of labels for Workspace.create: given the new workspace's folder, it returns the
# table (writing images into that folder first, when it imports them from elsewhere).
LabelSource = Callable[[Path], LabelTable]

_Raw = tuple[str, dict[str, str]]  # (where, e.g. "row 3 (line 4)", the row's fields)


def _csv_rows(text: str, name: str) -> Iterator[_Raw]:
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    if "file" not in header or "label" not in header:
        raise DataError(
            f"{name}: the first line must name the columns file,label (and optionally split); "
            f"found {','.join(header) or 'nothing'}",
            "add a header line such as 'file,label,split'",
        )
    reader.fieldnames = header
    for number, row in enumerate(reader, 1):
        fields = {k: (v or "").strip() for k, v in row.items() if k is not None}
        yield f"row {number} (line {reader.line_num})", fields


def _json_rows(text: str, name: str) -> Iterator[_Raw]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise DataError(f"{name} is not valid JSON: {error}", "fix the syntax there") from None
    if isinstance(data, dict):  # {"file": "label", ...}
        data = [{"file": f, "label": label} for f, label in data.items()]
    if not isinstance(data, list):
        raise DataError(
            f"{name}: expected a list of objects with file and label (and optionally split)",
            'write [{"file": "a.png", "label": "cat", "split": "train"}, ...] or '
            '{"a.png": "cat", ...}',
        )
    for number, row in enumerate(data, 1):
        if not isinstance(row, dict):
            yield f"row {number}", {"file": "", "label": "", "not_an_object": "1"}
            continue
        fields = {str(k).lower(): "" if v is None else str(v).strip() for k, v in row.items()}
        yield f"row {number}", fields


def _check_file(file: str, images: Path | None) -> str | None:
    """The problem with a row's file name, or None."""
    if not file:
        return "no file name; fill the file column"
    path = PurePosixPath(file.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts:
        return f"file {file!r} is outside the image folder; give a path relative to it"
    if images is not None:
        target = images / path
        if not target.is_file():
            return f"file {file!r} is not in {images}; fix the name or remove the row"
        if images.resolve() not in target.resolve().parents:
            return f"file {file!r} links outside {images}; copy the image into the folder"
    return None


def _check_split(split: str, fixed: str | None) -> tuple[str | None, str | None]:
    """(split, problem)."""
    chosen = split.lower() or fixed
    if split and fixed and split.lower() != fixed:
        return None, f"split {split!r} but --split {fixed} was given; drop one of them"
    if chosen is None:
        return None, "no split; fill the split column or give --split train"
    if chosen not in SPLITS:
        return None, f"split {split!r} is not one of {', '.join(SPLITS)}; use one of those"
    return chosen, None


def _check_label(label: str, split: str, classes: list[str] | None) -> str | None:
    if split not in LABELLED_SPLITS:
        return (
            None
            if not label
            else (
                f"label {label!r} on a pool image; pool images are unlabelled: leave the label "
                "empty or put the row in train, validation or test"
            )
        )
    if not label:
        return f"no label for a {split} image; fill the label column (or move the row to pool)"
    if classes is not None and label not in classes:
        return f"label {label!r} is not one of the classes ({', '.join(classes)}); fix it"
    return None


def parse_labels(
    text: str,
    kind: str,
    name: str,
    images: Path | None = None,
    split: str | None = None,
    classes: list[str] | None = None,
) -> LabelTable:
    """Check every row (all problems at once, each with its row number and fix) and return
    the table. `kind`: csv or json; `images`: the folder the files must exist in (None: not
    checked); `split`: the split of rows without one; `classes`: the labels allowed."""
    reader = _json_rows if kind == "json" else _csv_rows
    rows: list[LabelRow] = []
    problems: list[str] = []
    seen: dict[str, str] = {}
    for where, fields in reader(text, name):
        if "not_an_object" in fields:
            problems.append(f'{where}: not an object; write {{"file": ..., "label": ...}}')
            continue
        file = fields.get("file", "").replace("\\", "/")
        chosen, split_problem = _check_split(fields.get("split", ""), split)
        problem = _check_file(file, images) or split_problem
        if problem is None and file in seen:
            problem = f"file {file!r} is listed again (first in {seen[file]}); keep one row"
        if problem is None and chosen is not None:
            problem = _check_label(fields.get("label", ""), chosen, classes)
        if problem is not None:
            problems.append(f"{where}: {problem}")
            continue
        assert chosen is not None
        seen[file] = where
        label = fields.get("label", "") or None
        rows.append(LabelRow(file, label if chosen in LABELLED_SPLITS else None, chosen))
    if problems:
        more = len(problems) - _SHOWN
        listed = problems[:_SHOWN] + ([f"... and {more} more"] if more > 0 else [])
        raise DataError(
            f"{name}: {len(problems)} bad row(s):\n  - " + "\n  - ".join(listed),
            "fix the rows listed above (each says how); nothing was created",
        )
    if not rows:
        raise DataError(f"{name} lists no images", "add one row per image: file,label,split")
    return LabelTable(rows)


def read_labels(
    path: Path,
    images: Path | None = None,
    split: str | None = None,
    classes: list[str] | None = None,
) -> LabelTable:
    """A CSV (.csv) or JSON (.json) labels file; see `parse_labels`."""
    kind = path.suffix.lower().lstrip(".")
    if kind not in ("csv", "json"):
        raise DataError(
            f"{path}: labels files are .csv or .json, not {path.suffix or 'without a suffix'}",
            "save the table as CSV (file,label,split) or JSON",
        )
    if not path.is_file():
        raise DataError(f"labels file {path} does not exist", "check the path")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise DataError(f"{path} is not UTF-8 text", "save it as UTF-8") from None
    return parse_labels(text, kind, str(path), images, split, classes)
