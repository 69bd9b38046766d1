"""MAD's parts without a workspace: class distances from a tree, the selection caps, compact
score rows, opinion scores and agreement, class maps, picking, and 1:1 batch mixing."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sqlalchemy import insert
from torch.utils.data import TensorDataset

from robustar import Workspace
from robustar.db.tables import MadScore
from robustar.discover.mad.competitors import check_fits, read_class_map
from robustar.discover.mad.hierarchy import distances, read_tree
from robustar.discover.mad.ratings import Rating, agreement, check_score, opinion, parse
from robustar.discover.mad.rounds import choose
from robustar.discover.mad.scores import decode_top, encode_top, score_rows
from robustar.discover.mad.select import Disagreement, pick, select_pair
from robustar.discover.mad.settings import MadSettings
from robustar.errors import DataError
from robustar.train.mixed import HalfAndHalf, mixed_loader

TREE = """class,parent
cat,mammal
dog,mammal
truck,vehicle
car,vehicle
mammal,thing
vehicle,thing
thing,
"""


def test_tree_distance_is_larger_across_the_root_than_between_siblings() -> None:
    classes = ["cat", "dog", "truck", "car"]
    d = distances(classes, read_tree(TREE))
    # an edge from depth d weighs 1/d: cat-dog 1/2 + 1/2, cat-truck 1/2 + 1 + 1 + 1/2
    assert d[0, 1] == pytest.approx(1 / 3) and d[2, 3] == pytest.approx(1 / 3)
    assert d[0, 2] == pytest.approx(1.0) and d[1, 3] == pytest.approx(1.0)
    assert np.allclose(d, d.T) and np.all(np.diag(d) == 0)
    assert np.array_equal(distances(classes, None), 1 - np.eye(4))


def test_a_tree_without_a_class_or_with_a_cycle_is_refused() -> None:
    with pytest.raises(DataError, match="does not name the classes"):
        distances(["cat", "horse"], read_tree(TREE))
    with pytest.raises(DataError, match="share no root"):
        distances(["cat", "truck"], read_tree("cat,mammal\ntruck,vehicle\n"))
    with pytest.raises(DataError, match="cycle"):
        distances(["a"], read_tree('{"a": "b", "b": "a"}'))
    with pytest.raises(DataError, match="line 2"):
        read_tree("class,parent\ncat,mammal,extra\n")


def _row(image: int, a: int, b: int, ca: float = 0.9, cb: float = 0.9) -> Disagreement:
    return Disagreement(image, a, ca, b, cb, 1.0)


def test_pick_caps_per_leading_class_uses_each_class_pair_once_and_stops_at_the_budget() -> None:
    rows = [_row(i, 0, 1 + i % 4) for i in range(8)] + [_row(100 + i, 1, 2) for i in range(3)]
    chosen = pick(rows, True, MadSettings(per_class=3, per_pair=25))
    leads = [r.a_class for r in chosen]
    assert leads.count(0) == 3  # three images of class 0, with three different partners
    pairs = [tuple(sorted((r.a_class, r.b_class))) for r in chosen]
    assert len(pairs) == len(set(pairs))
    assert [r.image_id for r in chosen] == [0, 1, 2, 100]
    assert len(pick(rows, True, MadSettings(per_pair=2))) == 2
    free = pick(rows, True, MadSettings(per_class=100, pair_once=False))
    assert len(free) == len(rows)
    by_b = pick(rows, False, MadSettings(per_class=1, pair_once=False))
    assert sorted({r.b_class for r in by_b}) == [1, 2, 3, 4] and len(by_b) == 4


def test_score_rows_map_outputs_and_keep_top_k_compactly() -> None:
    logits = torch.tensor([[0.0, 3.0, 0.0, 2.9], [5.0, 0.0, 0.0, 0.0]])
    rows = score_rows(7, logits, torch.tensor([11, 12]), [2, 0, -1, 0], 3)
    # outputs 1 and 3 both mean class 0: their probabilities add up
    assert rows[0]["predicted"] == 0 and rows[0]["confidence"] > 0.9
    assert rows[1]["predicted"] == 2
    top = decode_top(rows[0]["top"])
    assert top[0][0] == 0 and len(top) == 3 and len(rows[0]["top"]) == 12
    assert rows[0]["entropy"] > rows[1]["entropy"] > 0


def test_class_maps_name_the_problem() -> None:
    classes = ["cat", "dog"]
    assert read_class_map("output,class\n0,dog\n2,cat\n", classes, 3) == [1, -1, 0]
    assert read_class_map('["dog", null, "cat"]', classes, 3) == [1, -1, 0]
    with pytest.raises(DataError, match="'horse' is not a class"):
        read_class_map("0,horse\n", classes, 3)
    with pytest.raises(DataError, match=r"output 5 is not in 0\.\.2"):
        read_class_map("5,cat\n", classes, 3)
    with pytest.raises(DataError, match="2 names for 3 outputs"):
        read_class_map('["dog", "cat"]', classes, 3)


def test_a_model_that_cannot_take_the_size_or_gives_other_outputs_is_refused() -> None:
    fixed = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 24 * 24, 5))
    check_fits(fixed, 24, 5, "fixed")
    with pytest.raises(DataError, match="does not accept 16x16 images"):
        check_fits(fixed, 16, 5, "fixed")
    with pytest.raises(DataError, match=r"not \(batch, 4\)"):
        check_fits(fixed, 24, 4, "fixed")


def test_scores_outside_the_scale_are_refused() -> None:
    for bad in (6, -1, True, 2.5):
        with pytest.raises(DataError, match=r"outside 1\.\.5"):
            check_score(bad)  # type: ignore[arg-type]
    assert check_score(0) == 0 and check_score(5) == 5


def test_opinion_interval_needs_two_raters_and_out_of_domain_excludes() -> None:
    single = opinion(1, [2])
    assert single.mos == 2 and single.low is None
    pair = opinion(2, [2, 3])
    assert pair.mos == 2.5 and pair.low is not None and pair.high is not None
    assert 1 <= pair.low < 2.5 < pair.high <= 5
    many = opinion(3, [2, 3, 2, 3, 2, 3, 2, 3])
    assert many.high is not None and pair.high is not None and many.high - many.mos < 0.5
    excluded = opinion(4, [5, 5, 0])
    assert excluded.excluded and excluded.mos is None


def _ratings(table: dict[str, list[int]]) -> list[Rating]:
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    out = []
    for rater, scores in table.items():
        for image, score in enumerate(scores):
            out.append(Rating(len(out), image, rater, score, now, None))
    return out


def test_agreement_is_high_for_consistent_raters_and_low_for_random_ones() -> None:
    good = agreement(_ratings({"a": [1, 2, 3, 4, 5, 1], "b": [1, 2, 3, 5, 5, 2]}))
    assert good.alpha is not None and good.alpha > 0.8
    assert good.spearman is not None and good.spearman > 0.8
    bad = agreement(_ratings({"a": [1, 5, 1, 5, 1, 5], "b": [5, 1, 5, 1, 5, 1]}))
    assert bad.alpha is not None and bad.alpha < 0
    alone = agreement(_ratings({"a": [1, 2, 3]}))
    assert alone.alpha is None and alone.raters == 1


def test_imported_ratings_are_checked_row_by_row() -> None:
    assert parse("image_id,rater,score\n3,ann,4\n") == [(3, "ann", 4)]
    assert parse('[{"image_id": 3, "rater": "bob", "score": 0}]') == [(3, "bob", 0)]
    with pytest.raises(DataError, match="row 2"):
        parse("image_id,rater,score\n3,ann,4\nx,ann,4\n")


def test_picks_take_the_worst_for_training_and_a_capped_test_set_from_the_rest() -> None:
    opinions = [opinion(i, [1 + i % 5, 1 + i % 5]) for i in range(40)]
    opinions.append(opinion(99, [1, 0]))  # out of domain: never picked
    target_class = {o.image_id: o.image_id % 3 for o in opinions}
    settings = MadSettings(worst=8, test_size=10, test_per_class=2)
    train, test = choose(opinions, target_class, settings, round_id=1)
    assert len(train) == 8 and all(i % 5 == 0 for i in train)  # MOS 1
    assert 99 not in train + test and not set(train) & set(test)
    assert len(test) == 6  # three classes, two each
    assert choose(opinions, target_class, settings, round_id=1) == (train, test)


def test_every_mixed_batch_draws_half_from_each_set() -> None:
    sampler = HalfAndHalf(10, 3, 4, torch.Generator().manual_seed(0))
    batches = list(sampler)
    assert len(batches) == len(sampler) == 5
    assert all(sum(i < 10 for i in b) == 2 and sum(i >= 10 for i in b) == 2 for b in batches)
    assert sorted(i for b in batches for i in b if i < 10) == list(range(10))
    first = TensorDataset(torch.zeros(9, 1), torch.zeros(9, dtype=torch.long))
    extra = TensorDataset(torch.ones(2, 1), torch.ones(2, dtype=torch.long))
    loader = mixed_loader(first, extra, 6, 0, torch.device("cpu"), torch.Generator().manual_seed(1))
    for _, y in loader:
        assert int(y.sum()) == 3 and len(y) == 6


@pytest.mark.usefixtures("database_url")
def test_selection_order_and_an_empty_pool_on_both_databases(workspace: Workspace) -> None:
    first = workspace.train(architecture="tiny_cnn", epochs=1, predict=False)
    second = workspace.train(architecture="tiny_cnn", epochs=1, predict=False, seed=1)
    ids = workspace.view("test").ids()
    rows = []
    for k, image in enumerate(ids):
        for version, cls, p in ((first.id, k % 3, 0.99 - 0.01 * k), (second.id, (k + 1) % 3, 0.95)):
            probs = np.full(3, (1 - p) / 2)
            probs[cls] = p
            rows.append(
                {
                    "version_id": version,
                    "image_id": image,
                    "predicted": cls,
                    "confidence": p,
                    "entropy": 0.1,
                    "top": encode_top(probs),
                }
            )
    with workspace.session() as session:
        session.execute(insert(MadScore), rows)
    settings = MadSettings(threshold=0.9, per_class=10, pair_once=False)
    with workspace.session() as session:
        lead_a, lead_b = select_pair(
            session, first.id, second.id, settings, distances(["a"] * 3, None)
        )
    weaker = [min(r.a_confidence, r.b_confidence) for r in lead_a]
    assert weaker == sorted(weaker, reverse=True) and len(lead_a) == len(lead_b)
    # images whose first confidence fell below 0.9 do not qualify
    assert {r.image_id for r in lead_a} == {i for k, i in enumerate(ids) if 0.99 - 0.01 * k >= 0.9}
    workspace.mad.add(second.id)
    with pytest.raises(DataError, match="the pool is empty"):
        workspace.mad.round(first.id, [second.id])
