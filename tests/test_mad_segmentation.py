import math

import numpy as np
import pytest
import torch

from robustar.discover.mad.segmentation import (
    PairSummary,
    candidate_union,
    class_shares,
    discrepancy,
    entropy_select,
    main_class,
    mean_pixel_entropy,
    select_candidates,
    share_ranges,
    summarise,
)
from robustar.errors import DataError


def test_discrepancy_is_one_minus_miou_and_symmetric() -> None:
    a = np.array([[0, 0, 1], [1, 2, 2]])
    b = np.array([[0, 1, 1], [1, 2, 0]])
    # IoU_0 = 1/3 (one shared of 0,0 / 0,1 / 2,0), IoU_1 = 2/3, IoU_2 = 1/2
    assert discrepancy(a, b, 3) == pytest.approx(1 - (1 / 3 + 2 / 3 + 1 / 2) / 3)
    assert discrepancy(a, b, 3) == pytest.approx(discrepancy(b, a, 3))
    assert discrepancy(a, a, 3) == 0
    assert discrepancy(np.zeros((2, 2)), np.ones((2, 2)), 3) == 1


def test_shares_and_quartiles_from_training_labels() -> None:
    shares = class_shares(np.array([[0, 1, 1, 255]]), 3)
    assert shares.tolist() == pytest.approx([1 / 3, 2 / 3, 0])
    vectors = [np.array([1 - s, s, 0.0]) for s in (0.1, 0.2, 0.3, 0.4)] + [np.array([1.0, 0, 0])]
    ranges = share_ranges(iter(vectors), 3)
    assert ranges[1] == pytest.approx((0.175, 0.325))  # images without class 1 do not count
    assert 2 not in ranges  # never in training: no partition


def _row(image: int, d: float, target: float, competitor: float) -> PairSummary:
    return PairSummary(image, d, (1 - target, target, 0.0), (1 - competitor, competitor, 0.0))


def test_selection_by_partition_roles_and_union() -> None:
    ranges = {0: (0.5, 0.9), 1: (0.2, 0.4)}
    rows = [
        _row(1, 0.9, target=0.3, competitor=0.0),  # in the target's class-1 partition
        _row(2, 0.8, target=0.25, competitor=0.3),  # in both roles' partitions
        _row(3, 0.95, target=0.9, competitor=0.9),  # most discrepant, but its object too large
        _row(4, 0.7, target=0.35, competitor=0.35),
        _row(5, 0.6, target=0.0, competitor=0.2),  # only the competitor predicts class 1
        _row(6, float("nan"), target=0.3, competitor=0.3),
    ]
    chosen = select_candidates({7: (r for r in rows)}, ranges, per_class=2)  # one pass
    picks = [(c.led_by, c.class_index, c.image_id, c.rank) for c in chosen]
    assert picks == [
        ("competitor", 1, 2, 1),
        ("competitor", 1, 4, 2),
        ("target", 1, 1, 1),
        ("target", 1, 2, 2),
    ]  # the background (class 0) is no partition
    assert all(c.competitor == 7 for c in chosen)
    assert candidate_union(chosen) == [1, 2, 4]
    again = select_candidates({7: rows, 8: rows}, ranges, per_class=1, exclude=[1])
    assert [(c.competitor, c.led_by, c.image_id) for c in again] == [
        (7, "competitor", 2), (7, "target", 2), (8, "competitor", 2), (8, "target", 2),
    ]  # fmt: skip
    assert candidate_union(again) == [2]
    background = select_candidates({7: rows}, ranges, per_class=1, classes=[0])
    # background shares: target 0.7, 0.75, 0.1, 0.65, 1.0; competitor 1.0, 0.7, 0.1, 0.65, 0.8
    assert [(c.led_by, c.image_id) for c in background] == [("competitor", 2), ("target", 1)]
    with pytest.raises(DataError, match="at least 1"):
        select_candidates({7: rows}, ranges, per_class=0)


def test_ties_go_to_the_smaller_id() -> None:
    rows = [_row(i, 0.5, 0.3, 0.0) for i in (9, 3, 5)]
    chosen = select_candidates({1: rows}, {1: (0.2, 0.4)}, per_class=2)
    assert [c.image_id for c in chosen] == [3, 5]


def test_summaries_of_a_batch_of_logits() -> None:
    target = torch.zeros(2, 3, 2, 2)
    target[:, 1] = 5  # everything class 1
    competitor = target.clone()
    competitor[1, 2, 0, :] = 9  # image 11: top row class 2
    rows = summarise([10, 11], target, competitor, 3)
    assert rows[0] == PairSummary(10, 0.0, (0.0, 1.0, 0.0), (0.0, 1.0, 0.0))
    assert rows[1].discrepancy == pytest.approx(1 - (0.5 + 0) / 2)
    assert rows[1].competitor_shares == (0.0, 0.5, 0.5)


def test_main_class() -> None:
    assert main_class((0.6, 0.1, 0.3)) == 2
    assert main_class((0.6, 0.2, 0.2)) == 1  # a tie goes to the smaller index
    assert main_class((1.0, 0.0, 0.0)) is None
    assert main_class((0.6, 0.1, 0.3), background=None) == 0


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_on_cuda_as_on_the_cpu() -> None:
    logits = torch.randn(3, 4, 8, 8)
    other = torch.randn(3, 4, 8, 8)
    on_cpu = summarise([1, 2, 3], logits, other, 4)
    assert summarise([1, 2, 3], logits.cuda(), other.cuda(), 4) == on_cpu
    assert torch.allclose(mean_pixel_entropy(logits.cuda()).cpu(), mean_pixel_entropy(logits))


def test_entropy_baseline() -> None:
    logits = torch.zeros(3, 4, 2, 2)
    logits[1, 0] = 30  # confident
    logits[2, 0, 0, 0] = 30  # one confident pixel of four
    entropy = mean_pixel_entropy(logits)
    assert entropy[0] == pytest.approx(math.log(4))
    assert entropy[1] == pytest.approx(0, abs=1e-6)
    assert entropy[2] == pytest.approx(0.75 * math.log(4), abs=1e-6)
    pairs = ((i, float(e)) for i, e in zip([20, 21, 22], entropy, strict=True))
    assert entropy_select(pairs, 2) == [20, 22]
    assert entropy_select([(1, 0.3), (2, 0.9)], 5, exclude=[2]) == [1]
