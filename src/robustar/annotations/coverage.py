"""Mask coverage per class, and whether it is too skewed for paired training.

Paired training shows the model each annotated image beside a copy with its spurious region
filled, both labelled with the image's class. When the annotated images come mostly from a
few classes, "a filled region" is itself seen almost only with those classes and can become
a new shortcut for them (issue 11: 59 masks, all of class 9, and the model then called
nearly everything "9"). The report below lets the faces warn before a run starts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import case, func, select

from robustar.db.session import Database
from robustar.db.tables import Image, Mask

# The skew rule (docs/decisions.md, "Mask coverage and the skew warning"):
MIN_COVERED = 0.5  # masks must reach at least half of the classes that have images
DOMINANT_SHARE = 0.5  # a class with at least half of the masks ...
OVER_REPRESENTED = 2.0  # ... and at least twice its share of the images is a skew


@dataclass(frozen=True)
class ClassCoverage:
    name: str
    images: int
    annotated: int  # images with a current, non-empty spurious mask
    share: float  # this class's part of all annotated images of the split (0 when none)


@dataclass(frozen=True)
class Coverage:
    split: str
    images: int
    annotated: int
    classes: list[ClassCoverage]
    skewed: bool
    reason: str  # why it is skewed, or why not (no masks: paired training has nothing to pair)


def annotated_counts(
    db: Database, splits: Iterable[str], kind: str
) -> dict[str, dict[int, tuple[int, int]]]:
    """Per split and class index: (images with a current non-empty mask of `kind`, images)."""
    annotated = (
        select(Mask.image_id)
        .where(Mask.is_current, Mask.kind == kind, Mask.pixels > 0)
        .scalar_subquery()
    )
    query = (
        select(
            Image.split,
            Image.label,
            func.count(),
            func.sum(case((Image.id.in_(annotated), 1), else_=0)),
        )
        .where(Image.split.in_(list(splits)))
        .group_by(Image.split, Image.label)
    )
    result: dict[str, dict[int, tuple[int, int]]] = {}
    with db.session() as session:
        for split, label, total, done in session.execute(query):
            result.setdefault(split, {})[label] = (int(done or 0), int(total))
    return result


def judge(split: str, counts: dict[str, tuple[int, int]]) -> Coverage:
    """The coverage of one split from {class: (annotated, images)}, with the skew verdict.

    Skewed when masks exist and either they reach fewer than half of the classes, or one
    class holds at least half of them while holding less than half that share of the images.
    Masks spread roughly in proportion to the classes pass both tests.
    """
    classes = {name: c for name, c in counts.items() if c[1] > 0}
    total = sum(images for _, images in classes.values())
    done = sum(annotated for annotated, _ in classes.values())
    rows = [
        ClassCoverage(name, images, annotated, annotated / done if done else 0.0)
        for name, (annotated, images) in classes.items()
    ]
    if done == 0:
        note = f"no spurious masks on the {split} split: paired training needs masks to pair"
        return Coverage(split, total, done, rows, False, note)
    covered = [r.name for r in rows if r.annotated]
    if len(covered) < MIN_COVERED * len(rows):
        reason = (
            f"masks cover {len(covered)} of {len(rows)} classes ({', '.join(covered)}): "
            "paired training may learn a filled region as a sign of those classes"
        )
        return Coverage(split, total, done, rows, True, reason)
    top = max(rows, key=lambda r: r.share)
    if top.share >= DOMINANT_SHARE and top.share >= OVER_REPRESENTED * top.images / total:
        reason = (
            f"class {top.name} holds {top.annotated} of {done} annotated images "
            f"({top.share:.0%}) but {top.images / total:.0%} of the images: paired training "
            f"may learn a filled region as a sign of {top.name}"
        )
        return Coverage(split, total, done, rows, True, reason)
    reason = f"masks on {len(covered)} of {len(rows)} classes, none far beyond its share"
    return Coverage(split, total, done, rows, False, reason)
