"""A MAD round: select candidates for a target against its competitors, pick from the rated
candidates the images that get true labels, and keep those labels.

Picking follows the segmentation paper (Algorithm 1 and its "Model evaluation"): the `worst`
(n4) lowest mean opinion scores go to training; the round's unbiased test set is drawn at
random (seeded) from the rest, out-of-domain images left out, at most `test_per_class` per
class the target predicted, `test_size` in all. Picked images of a round are never
candidates of a later round.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from robustar.db.tables import Image, MadCandidate, MadLabel, MadRound
from robustar.discover.mad.ratings import Opinion
from robustar.discover.mad.scores import POOL, unscored_count
from robustar.discover.mad.select import select_pair
from robustar.discover.mad.settings import MadSettings
from robustar.errors import ConfigError, DataError, NotFoundError

TRAIN, TEST = "train", "test"


@dataclass(frozen=True)
class CandidateInfo:
    """A selected pool image: the pair that disagreed on it, who led, and what came of it."""

    image_id: int
    rank: int
    competitor_id: int
    led_by: str
    distance: float
    target_class: int
    target_confidence: float
    competitor_class: int
    competitor_confidence: float
    purpose: str | None
    label: int | None


@dataclass(frozen=True)
class RoundInfo:
    id: int
    target_id: int
    competitors: list[int]
    settings: dict[str, Any]
    finetuned_id: int | None
    created_by: str
    created_at: datetime
    candidates: int
    picked_train: int
    picked_test: int
    labelled: int


def round_row(session: Session, round_id: int) -> MadRound:
    row = session.get(MadRound, round_id)
    if row is None:
        raise NotFoundError(
            f"MAD round {round_id} does not exist",
            "list the rounds: robustar discover mad rounds WS (ws.mad.rounds())",
        )
    return row


def info(session: Session, row: MadRound) -> RoundInfo:
    purposes = Counter(
        session.scalars(select(MadCandidate.purpose).where(MadCandidate.round_id == row.id))
    )
    labelled = session.scalar(
        select(func.count()).select_from(MadLabel).where(MadLabel.round_id == row.id)
    )
    return RoundInfo(
        row.id,
        row.target_id,
        list(row.competitors),
        dict(row.settings),
        row.finetuned_id,
        row.created_by,
        row.created_at,
        sum(purposes.values()),
        purposes[TRAIN],
        purposes[TEST],
        labelled or 0,
    )


def picked_before(session: Session, round_id: int | None = None) -> list[int]:
    """Images picked for labels in earlier rounds (all rounds when `round_id` is None)."""
    query = select(MadCandidate.image_id).where(MadCandidate.purpose.is_not(None))
    if round_id is not None:
        query = query.where(MadCandidate.round_id < round_id)
    return list(session.scalars(query))


def check_ready(session: Session, versions: list[int]) -> None:
    pool = session.scalar(select(func.count()).select_from(Image).where(Image.split == POOL))
    if not pool:
        raise DataError(
            "the pool is empty: MAD looks for failures among unlabelled pool images",
            "add a folder of unlabelled images as 'pool = <folder>' under [data] in "
            "robustar.toml, then rescan (robustar scan WS)",
        )
    for version in versions:
        left = unscored_count(session, version)
        if left:
            raise ConfigError(
                f"model version {version} has not scored {left} pool images",
                "score the pool first: robustar discover mad score WS (ws.mad.score())",
            )


def create_round(
    session: Session,
    target: int,
    competitors: list[int],
    settings: MadSettings,
    distance: np.ndarray,
    tree: dict[str, str | None] | None,
    created_by: str,
) -> int:
    """Select the round's candidates: for each competitor both role directions, the union
    kept in selection order; raise, storing nothing, when there is nothing to select."""
    if not competitors or target in competitors:
        raise DataError(
            "a round needs at least one competitor other than the target",
            "register another model: robustar discover mad add WS --version N",
        )
    check_ready(session, [target, *competitors])
    exclude = picked_before(session)
    chosen: dict[int, MadCandidate] = {}
    for competitor in competitors:
        for led_by, rows in zip(
            ("target", "competitor"),
            select_pair(session, target, competitor, settings, distance, exclude),
            strict=True,
        ):
            for r in rows:
                if r.image_id not in chosen:
                    chosen[r.image_id] = MadCandidate(
                        image_id=r.image_id,
                        rank=len(chosen),
                        competitor_id=competitor,
                        led_by=led_by,
                        distance=r.distance,
                        target_class=r.a_class,
                        target_confidence=r.a_confidence,
                        competitor_class=r.b_class,
                        competitor_confidence=r.b_confidence,
                    )
    if not chosen:
        lower = max(0.5, round(settings.threshold - 0.2, 2))
        raise DataError(
            f"no pool image has a confident disagreement between version {target} and "
            f"{', '.join(map(str, competitors))}: none where both top-1 probabilities reach "
            f"{settings.threshold} and the classes differ",
            f"lower the threshold, e.g. threshold={lower} (--threshold {lower})",
        )
    row = MadRound(
        target_id=target,
        competitors=competitors,
        settings={**settings.model_dump(), "tree": tree},
        created_by=created_by,
    )
    session.add(row)
    session.flush()
    for candidate in chosen.values():
        candidate.round_id = row.id
    session.add_all(chosen.values())
    session.flush()
    return row.id


def candidates(session: Session, round_id: int) -> list[CandidateInfo]:
    labels = {
        i: c
        for i, c in session.execute(
            select(MadLabel.image_id, MadLabel.label).where(MadLabel.round_id == round_id)
        )
    }
    rows = session.scalars(
        select(MadCandidate)
        .where(MadCandidate.round_id == round_id)
        .order_by(MadCandidate.rank, MadCandidate.id)
    )
    return [
        CandidateInfo(
            c.image_id,
            c.rank,
            c.competitor_id,
            c.led_by,
            c.distance,
            c.target_class,
            c.target_confidence,
            c.competitor_class,
            c.competitor_confidence,
            c.purpose,
            labels.get(c.image_id),
        )
        for c in rows
    ]


def choose(
    opinions: list[Opinion], target_class: dict[int, int], settings: MadSettings, round_id: int
) -> tuple[list[int], list[int]]:
    """(train, test) image ids from the round's opinions."""
    rated = [o for o in opinions if o.mos is not None and not o.excluded]
    worst = sorted(rated, key=lambda o: (o.mos, o.image_id))[: settings.worst]
    train = [o.image_id for o in worst]
    rest = [o.image_id for o in rated if o.image_id not in set(train)]
    order = np.random.default_rng([settings.seed, round_id]).permutation(len(rest))
    per_class: Counter[int] = Counter()
    test: list[int] = []
    for k in order:
        image = rest[int(k)]
        if len(test) >= settings.test_size:
            break
        if per_class[target_class[image]] < settings.test_per_class:
            per_class[target_class[image]] += 1
            test.append(image)
    return train, sorted(test)


def pick(
    session: Session, round_id: int, opinions: list[Opinion], settings: MadSettings
) -> tuple[list[int], list[int]]:
    """Mark the round's picks (replacing an earlier pick); labels already given stay."""
    rows = list(session.scalars(select(MadCandidate).where(MadCandidate.round_id == round_id)))
    train, test = choose(opinions, {c.image_id: c.target_class for c in rows}, settings, round_id)
    if not train:
        raise DataError(
            f"MAD round {round_id} has no rated in-domain candidate to pick",
            "rate the candidates first (the Rate page, robustar rate, ws.mad.rate)",
        )
    purpose = {**dict.fromkeys(train, TRAIN), **dict.fromkeys(test, TEST)}
    for row in rows:
        row.purpose = purpose.get(row.image_id)
    session.flush()
    return train, test


def label(
    session: Session, round_id: int, image_id: int, value: int, classes: int, author: str
) -> None:
    """Give a picked candidate its true class (a later label replaces the earlier one)."""
    if not 0 <= value < classes:
        raise DataError(
            f"class {value} is not in 0..{classes - 1}", "give a class of the workspace"
        )
    purpose = session.scalar(
        select(MadCandidate.purpose).where(
            MadCandidate.round_id == round_id, MadCandidate.image_id == image_id
        )
    )
    if purpose is None:
        raise DataError(
            f"image {image_id} is not picked for labelling in MAD round {round_id}",
            "label the round's picks (ws.mad.queue(round)); pick them first (ws.mad.pick)",
        )
    row = session.scalar(
        select(MadLabel).where(MadLabel.round_id == round_id, MadLabel.image_id == image_id)
    )
    if row is None:
        row = MadLabel(round_id=round_id, image_id=image_id)
        session.add(row)
    row.label, row.author = value, author
    session.flush()


def labelled(session: Session, purpose: str, rounds: list[int]) -> dict[int, int]:
    """Image id -> true class of the rounds' picks for `purpose` (train or test)."""
    rows = session.execute(
        select(MadLabel.image_id, MadLabel.label)
        .join(
            MadCandidate,
            (MadCandidate.round_id == MadLabel.round_id)
            & (MadCandidate.image_id == MadLabel.image_id),
        )
        .where(MadLabel.round_id.in_(rounds), MadCandidate.purpose == purpose)
    )
    return {i: c for i, c in rows}
