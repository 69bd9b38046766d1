"""A global ranking of models from MAD's pairwise contests (Wang et al., 2020).

Every unordered pair of models runs the selection in both role directions. On each selected
image with a known true class, the model that is right where the other is wrong wins the
contest; when both are wrong both fail. The wins feed a Bradley-Terry model (choix's ILSR,
lightly regularised so that a model that never lost still gets a finite strength), and the
failure rate (failures / contests) is reported beside it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from itertools import combinations

import choix
import numpy as np
from scipy import stats
from sqlalchemy.orm import Session

from robustar.discover.mad.select import select_pair
from robustar.discover.mad.settings import MadSettings

REGULARISATION = 0.01


@dataclass(frozen=True)
class ModelRank:
    version_id: int
    rank: int
    strength: float
    contests: int
    failures: int
    failure_rate: float | None  # failures / contests
    accuracy: float | None  # on labelled data, when given


@dataclass(frozen=True)
class Ranking:
    models: list[ModelRank]
    contests: int
    unlabelled: list[int]  # selected images without a true class: label them to rank better
    spearman: float | None  # strength against accuracy
    kendall: float | None


@dataclass(frozen=True)
class Outcomes:
    wins: list[tuple[int, int]]  # (winner index, loser index)
    contests: Counter[int]
    failures: Counter[int]
    unlabelled: list[int]


def outcomes(
    session: Session,
    versions: list[int],
    settings: MadSettings,
    distance: np.ndarray,
    truth: dict[int, int],
) -> Outcomes:
    found = Outcomes([], Counter(), Counter(), [])
    missing: set[int] = set()
    for a, b in combinations(range(len(versions)), 2):
        lead_a, lead_b = select_pair(session, versions[a], versions[b], settings, distance)
        for row in {r.image_id: r for r in [*lead_a, *lead_b]}.values():
            true = truth.get(row.image_id)
            if true is None:
                missing.add(row.image_id)
                continue
            right_a, right_b = row.a_class == true, row.b_class == true
            found.contests.update((a, b))
            if right_a and not right_b:
                found.wins.append((a, b))
                found.failures[b] += 1
            elif right_b and not right_a:
                found.wins.append((b, a))
                found.failures[a] += 1
            else:
                found.failures.update((a, b))
    found.unlabelled.extend(sorted(missing))
    return found


def rank(
    session: Session,
    versions: list[int],
    settings: MadSettings,
    distance: np.ndarray,
    truth: dict[int, int],
    accuracy: dict[int, float] | None = None,
) -> Ranking:
    """Rank `versions` (best first) from their contests on labelled selected images."""
    found = outcomes(session, versions, settings, distance, truth)
    strengths = (
        choix.ilsr_pairwise(len(versions), found.wins, alpha=REGULARISATION)
        if found.wins
        else np.zeros(len(versions))
    )
    order = np.argsort(-strengths, kind="stable")
    place = {int(i): k + 1 for k, i in enumerate(order)}
    accuracy = accuracy or {}
    models = [
        ModelRank(
            versions[i],
            place[i],
            float(strengths[i]),
            found.contests[i],
            found.failures[i],
            found.failures[i] / found.contests[i] if found.contests[i] else None,
            accuracy.get(versions[i]),
        )
        for i in order
    ]
    spearman = kendall = None
    if len(versions) >= 3 and all(v in accuracy for v in versions) and found.wins:
        known = [accuracy[v] for v in versions]
        spearman = float(stats.spearmanr(strengths, known).statistic)
        kendall = float(stats.kendalltau(strengths, known).statistic)
    return Ranking(models, sum(found.contests.values()) // 2, found.unlabelled, spearman, kendall)
