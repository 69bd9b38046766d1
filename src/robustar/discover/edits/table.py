"""The robustness table: per edit (and per class) accuracy before and after, and the drop
with its confidence interval over seeds; written as Markdown or HTML beside other versions'.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from robustar.report import Format, Section, Table, html_page, markdown


@dataclass(frozen=True)
class Row:
    """One edit (all classes, or one `class_name`): accuracy on the original and edited
    images (mean over seeds), the drop (original - edited) and its 95 % half-width over
    seeds (None with one seed)."""

    edit: str
    class_name: str | None
    images: int
    original: float
    edited: float
    drop: float
    ci: float | None
    seeds: int


def summarise(
    counts: Sequence[Sequence[object]], classes: Sequence[str], order: Sequence[str] = ()
) -> list[Row]:
    """Rows from stored counts ([edit, seed, class, images, right before, right after]):
    each edit over all classes first (in `order`, the run's), then per class."""
    by_key: dict[tuple[str, int | None], dict[int, np.ndarray]] = defaultdict(dict)
    for edit, seed, cls, *values in counts:
        numbers = np.array(values, dtype=np.int64)
        for key in ((str(edit), None), (str(edit), int(str(cls)))):
            seen = by_key[key].get(int(str(seed)), np.zeros(3, np.int64))
            by_key[key][int(str(seed))] = seen + numbers
    rows = [_row(edit, cls, per_seed, classes) for (edit, cls), per_seed in by_key.items()]
    rank = {name: i for i, name in enumerate(order)}
    return sorted(
        rows,
        key=lambda r: (
            r.class_name is not None,
            r.class_name or "",
            rank.get(r.edit, len(rank)),
            r.edit,
        ),
    )


def _row(
    edit: str, cls: int | None, per_seed: dict[int, np.ndarray], classes: Sequence[str]
) -> Row:
    totals = np.array(list(per_seed.values()), dtype=np.float64)
    n = np.maximum(totals[:, 0], 1)
    original, edited = totals[:, 1] / n, totals[:, 2] / n
    drops = original - edited
    k = len(drops)
    ci = float(stats.t.ppf(0.975, k - 1) * drops.std(ddof=1) / np.sqrt(k)) if k > 1 else None
    return Row(
        edit,
        None if cls is None else classes[cls] if cls < len(classes) else str(cls),
        int(totals[:, 0].max()),
        float(original.mean()),
        float(edited.mean()),
        float(drops.mean()),
        ci,
        k,
    )


def _points(value: float) -> str:
    return f"{100 * value:.1f}"


def _drop(row: Row) -> str:
    return _points(row.drop) + ("" if row.ci is None else f" ± {_points(row.ci)}")


def sections(tables: dict[str, list[Row]], per_class: bool = False) -> list[Section]:
    """One table with a column pair per version (edited accuracy, drop in points)."""
    names = list(tables)
    edits = list(
        dict.fromkeys(r.edit for rows in tables.values() for r in rows if r.class_name is None)
    )
    head = ["edit"] + [f"{n}: {h}" for n in names for h in ("accuracy %", "drop (points)")]
    found = {n: {(r.edit, r.class_name): r for r in rows} for n, rows in tables.items()}

    def line(edit: str, cls: str | None) -> list[str]:
        cells = [edit if cls is None else f"{edit} [{cls}]"]
        for name in names:
            row = found[name].get((edit, cls))
            cells += ["-", "-"] if row is None else [_points(row.edited), _drop(row)]
        return cells

    out = [Section("Robustness to attribute edits", [Table(head, [line(e, None) for e in edits])])]
    if per_class:
        classes = sorted({c for rows in tables.values() for r in rows if (c := r.class_name)})
        out.append(
            Section("Per class", [Table(head, [line(e, c) for e in edits for c in classes])])
        )
    return out


def export(tables: dict[str, list[Row]], format: Format, per_class: bool = False) -> str:
    """The table as Markdown or as one self-contained HTML page."""
    title = "Attribute-edit robustness"
    parts = sections(tables, per_class)
    return markdown(title, parts) if format == "markdown" else html_page(title, parts)
