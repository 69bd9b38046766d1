"""Selecting the images where two models disagree most (MAD for classification).

For a model pair, an image qualifies when both top-1 predictions reach the threshold and
differ. Qualifying images are ranked by the distance of the two predicted classes (largest
first), ties broken by the smaller of the two confidences (most confident first), then by id.
The leading model of a role direction caps how many images each class it predicts may take,
and each unordered pair of predicted classes is used once; the first `per_pair` survivors
are the direction's selection. Both directions run, and a round takes the union.

Without a class tree every distance is 1, so the database does the ordering and the
selection stops after `per_pair` picks without reading the rest (memory stays flat however
large the pool); with a tree the qualifying rows are ranked here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, aliased

from robustar.db.tables import MadScore
from robustar.discover.mad.settings import MadSettings


@dataclass(frozen=True)
class Disagreement:
    """One pool image on which models a and b both answered confidently and differently."""

    image_id: int
    a_class: int
    a_confidence: float
    b_class: int
    b_confidence: float
    distance: float


def disagreements(
    session: Session,
    a: int,
    b: int,
    threshold: float,
    distance: np.ndarray,
    exclude: Iterable[int] = (),
) -> Iterator[Disagreement]:
    """Qualifying images of the pair (versions a, b) in rank order, streamed."""
    sa, sb = aliased(MadScore), aliased(MadScore)
    postgres = session.get_bind().dialect.name == "postgresql"
    weaker = (func.least if postgres else func.min)(sa.confidence, sb.confidence)
    query = (
        select(sa.image_id, sa.predicted, sa.confidence, sb.predicted, sb.confidence)
        .join(sb, and_(sb.image_id == sa.image_id, sb.version_id == b))
        .where(
            sa.version_id == a,
            sa.confidence >= threshold,
            sb.confidence >= threshold,
            sa.predicted != sb.predicted,
        )
        .order_by(weaker.desc(), sa.image_id)
    )
    excluded = sorted(set(exclude))
    if excluded:
        query = query.where(sa.image_id.not_in(excluded))
    rows = (
        Disagreement(i, pa, ca, pb, cb, float(distance[pa, pb]))
        for i, pa, ca, pb, cb in session.execute(query.execution_options(yield_per=2000))
    )
    if np.all(distance[~np.eye(len(distance), dtype=bool)] == 1):
        yield from rows  # every distance is 1: the database's order is the rank
        return
    yield from sorted(rows, key=lambda r: -r.distance)  # stable: keeps the confidence order


def pick(
    rows: Iterable[Disagreement], lead_is_a: bool, settings: MadSettings
) -> list[Disagreement]:
    """The direction's selection from ranked rows, with the diversity caps."""
    per_class: Counter[int] = Counter()
    pairs: set[tuple[int, int]] = set()
    chosen: list[Disagreement] = []
    for row in rows:
        lead = row.a_class if lead_is_a else row.b_class
        pair = (min(row.a_class, row.b_class), max(row.a_class, row.b_class))
        if per_class[lead] >= settings.per_class or (settings.pair_once and pair in pairs):
            continue
        per_class[lead] += 1
        pairs.add(pair)
        chosen.append(row)
        if len(chosen) >= settings.per_pair:
            break
    return chosen


def select_pair(
    session: Session,
    a: int,
    b: int,
    settings: MadSettings,
    distance: np.ndarray,
    exclude: Iterable[int] = (),
) -> tuple[list[Disagreement], list[Disagreement]]:
    """Both role directions of the pair: (a leading, b leading)."""
    excluded = list(exclude)
    lead_a = pick(
        disagreements(session, a, b, settings.threshold, distance, excluded), True, settings
    )
    lead_b = pick(
        disagreements(session, a, b, settings.threshold, distance, excluded), False, settings
    )
    return lead_a, lead_b
