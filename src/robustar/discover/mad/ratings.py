"""Weak labels: raters' opinions of a candidate's prediction on the 1-5 absolute category scale
(bad, poor, fair, good, excellent) or "out of domain" (0), their mean opinion scores with a
confidence interval, and how well the raters agree.

Ratings are never changed in place: a rater's later rating of an image supersedes the earlier
one, an undo withdraws the rater's latest rating (so the one before it counts again), and the
whole history can be exported. Any active out-of-domain vote excludes the image, as in MAD.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import datetime
from itertools import combinations
from typing import Literal

import krippendorff
import numpy as np
from scipy import stats
from sqlalchemy import select
from sqlalchemy.orm import Session

from robustar.db.tables import MadCandidate, MadRating, utcnow
from robustar.errors import DataError, NotFoundError

SCALE = {1: "bad", 2: "poor", 3: "fair", 4: "good", 5: "excellent"}
OUT_OF_DOMAIN = 0
SCORE_FIX = "rate 1 (bad) to 5 (excellent), or 0 for out of domain"
IMPORT_FIX = (
    "give CSV with the columns image_id,rater,score (or a JSON list of such objects); "
    "score 1..5, 0 for out of domain"
)
ExportFormat = Literal["csv", "json"]


@dataclass(frozen=True)
class Rating:
    """One stored rating; `score` 0 is out of domain."""

    id: int
    image_id: int
    rater: str
    score: int
    created_at: datetime
    withdrawn_at: datetime | None


@dataclass(frozen=True)
class Opinion:
    """The active ratings of one candidate: the mean opinion score and its 95 % interval
    (Student t, within 1..5; None with fewer than 2 raters); `excluded` when any rater said
    out of domain."""

    image_id: int
    raters: int
    scores: list[int]
    mos: float | None
    low: float | None
    high: float | None
    excluded: bool


@dataclass(frozen=True)
class Agreement:
    """Inter-rater agreement over the images at least two raters scored (out of domain
    left out): Krippendorff's ordinal alpha and the mean pairwise Spearman correlation."""

    raters: int
    images: int
    alpha: float | None
    spearman: float | None


def check_score(score: int) -> int:
    if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 5:
        raise DataError(f"rating {score!r} is outside 1..5 (0: out of domain)", SCORE_FIX)
    return score


def require_candidate(session: Session, round_id: int, image_id: int) -> None:
    found = session.scalar(
        select(MadCandidate.id).where(
            MadCandidate.round_id == round_id, MadCandidate.image_id == image_id
        )
    )
    if found is None:
        raise NotFoundError(
            f"image {image_id} is not a candidate of MAD round {round_id}",
            "rate the round's candidates (ws.mad.candidates(round), "
            "GET /api/v1/mad/rounds/{id}/candidates)",
        )


def rate(session: Session, round_id: int, image_id: int, rater: str, score: int) -> Rating:
    """Store a rating; it supersedes the rater's earlier one of the image (kept as history)."""
    check_score(score)
    if not rater.strip():
        raise DataError("the rater name is empty", "give the rater's name")
    require_candidate(session, round_id, image_id)
    row = MadRating(
        round_id=round_id,
        image_id=image_id,
        rater=rater.strip(),
        score=None if score == OUT_OF_DOMAIN else score,
        out_of_domain=score == OUT_OF_DOMAIN,
    )
    session.add(row)
    session.flush()
    return _rating(row)


def undo(session: Session, round_id: int, rater: str) -> Rating | None:
    """Withdraw the rater's latest active rating in the round; None when there is none."""
    row = session.scalar(
        select(MadRating)
        .where(
            MadRating.round_id == round_id,
            MadRating.rater == rater.strip(),
            MadRating.withdrawn_at.is_(None),
        )
        .order_by(MadRating.id.desc())
        .limit(1)
    )
    if row is None:
        return None
    row.withdrawn_at = utcnow()
    session.flush()
    return _rating(row)


def _rating(row: MadRating) -> Rating:
    score = OUT_OF_DOMAIN if row.out_of_domain else int(row.score or 0)
    return Rating(row.id, row.image_id, row.rater, score, row.created_at, row.withdrawn_at)


def history(session: Session, round_id: int) -> list[Rating]:
    rows = session.scalars(
        select(MadRating).where(MadRating.round_id == round_id).order_by(MadRating.id)
    )
    return [_rating(r) for r in rows]


def active(session: Session, round_id: int) -> list[Rating]:
    """Each rater's latest non-withdrawn rating per image."""
    latest: dict[tuple[int, str], Rating] = {}
    for rating in history(session, round_id):
        if rating.withdrawn_at is None:
            latest[(rating.image_id, rating.rater)] = rating
    return sorted(latest.values(), key=lambda r: r.id)


def opinion(image_id: int, scores: list[int]) -> Opinion:
    if OUT_OF_DOMAIN in scores:
        return Opinion(image_id, len(scores), scores, None, None, None, True)
    if not scores:
        return Opinion(image_id, 0, [], None, None, None, False)
    mos = float(np.mean(scores))
    if len(scores) < 2:
        return Opinion(image_id, 1, scores, mos, None, None, False)
    spread = float(np.std(scores, ddof=1)) / math.sqrt(len(scores))
    half = float(stats.t.ppf(0.975, len(scores) - 1)) * spread
    low, high = max(1.0, mos - half), min(5.0, mos + half)  # the scale's ends bound it
    return Opinion(image_id, len(scores), scores, mos, low, high, False)


def opinions(session: Session, round_id: int) -> list[Opinion]:
    """One opinion per candidate of the round (unrated ones with no score), in rank order."""
    scores: dict[int, list[int]] = defaultdict(list)
    for rating in active(session, round_id):
        scores[rating.image_id].append(rating.score)
    candidates = session.scalars(
        select(MadCandidate.image_id)
        .where(MadCandidate.round_id == round_id)
        .order_by(MadCandidate.rank, MadCandidate.id)
    )
    return [opinion(i, scores.get(i, [])) for i in candidates]


def agreement(ratings: list[Rating]) -> Agreement:
    raters = sorted({r.rater for r in ratings})
    by_image: dict[int, dict[str, int]] = defaultdict(dict)
    for rating in ratings:
        if rating.score != OUT_OF_DOMAIN:
            by_image[rating.image_id][rating.rater] = rating.score
    shared = sorted(i for i, given in by_image.items() if len(given) >= 2)
    if len(raters) < 2 or not shared:
        return Agreement(len(raters), len(shared), None, None)
    matrix = np.full((len(raters), len(shared)), np.nan)
    for column, image in enumerate(shared):
        for rater, score in by_image[image].items():
            matrix[raters.index(rater), column] = score
    alpha = None
    if len(np.unique(matrix[~np.isnan(matrix)])) > 1:
        alpha = float(krippendorff.alpha(matrix, level_of_measurement="ordinal"))
    correlations = []
    for a, b in combinations(range(len(raters)), 2):
        both = ~np.isnan(matrix[a]) & ~np.isnan(matrix[b])
        if both.sum() >= 3 and np.ptp(matrix[a, both]) > 0 and np.ptp(matrix[b, both]) > 0:
            correlations.append(stats.spearmanr(matrix[a, both], matrix[b, both]).statistic)
    spearman = float(np.mean(correlations)) if correlations else None
    return Agreement(len(raters), len(shared), alpha, spearman)


def export(ratings: list[Rating], format: ExportFormat) -> str:
    rows = [
        {
            **asdict(r),
            "created_at": r.created_at.isoformat(),
            "withdrawn_at": None if r.withdrawn_at is None else r.withdrawn_at.isoformat(),
        }
        for r in ratings
    ]
    if format == "json":
        return json.dumps(rows, indent=1)
    out = io.StringIO()
    fields = ["id", "image_id", "rater", "score", "created_at", "withdrawn_at"]
    writer = csv.DictWriter(out, fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def parse(text: str) -> list[tuple[int, str, int]]:
    """(image id, rater, score) rows from another tool's CSV or JSON export."""
    stripped = text.strip()
    try:
        if stripped.startswith("["):
            records = json.loads(stripped)
        else:
            records = list(csv.DictReader(io.StringIO(stripped)))
    except (json.JSONDecodeError, csv.Error) as error:
        raise DataError(f"the ratings cannot be read: {error}", IMPORT_FIX) from None
    parsed = []
    for number, record in enumerate(records, 1):
        try:
            image, rater, score = record["image_id"], record["rater"], record["score"]
            parsed.append((int(image), str(rater), int(score)))
        except (KeyError, TypeError, ValueError):
            raise DataError(f"ratings row {number} ({record!r}) is not valid", IMPORT_FIX) from None
    return parsed
