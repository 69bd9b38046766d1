"""Mask coverage per class and the skew rule that warns before paired training."""

import numpy as np
import pytest

from robustar import Workspace
from robustar.annotations.coverage import judge
from robustar.errors import DataError


def ten_classes(annotated: dict[int, int], images: int = 300) -> dict[str, tuple[int, int]]:
    return {str(c): (annotated.get(c, 0), images) for c in range(10)}


def test_masks_on_one_class_of_ten_are_skewed() -> None:
    # The walkthrough of issue 11: 59 annotated images, all of class 9.
    report = judge("train", ten_classes({9: 59}))
    assert report.skewed and "1 of 10 classes (9)" in report.reason
    assert (report.annotated, report.images) == (59, 3000)
    nine = next(c for c in report.classes if c.name == "9")
    assert (nine.annotated, nine.share) == (59, 1.0)


def test_one_class_holding_most_masks_is_skewed_even_when_all_have_some() -> None:
    counts = {"a": (268, 500), "b": (8, 500), "c": (6, 500), "d": (6, 500)}
    counts |= {"e": (6, 500), "f": (6, 500)}
    report = judge("train", counts)
    assert report.skewed
    assert report.reason.startswith("class a holds 268 of 300 annotated images (89%)")


def test_masks_on_one_of_two_classes_are_skewed() -> None:
    # Half of the classes are covered, but the one class holds every mask and half the images.
    assert judge("train", {"cat": (40, 100), "dog": (0, 100)}).skewed


@pytest.mark.parametrize(
    "counts",
    [
        ten_classes({c: 30 for c in range(10)}),
        ten_classes({c: 20 + 3 * c for c in range(10)}),  # uneven, but no class far ahead
        {"a": (200, 1000), "b": (25, 100), "c": (20, 100)},  # a big class with most masks
        ten_classes({c: 5 for c in range(6)}),  # six of ten classes
    ],
)
def test_masks_spread_in_proportion_are_not_skewed(counts: dict[str, tuple[int, int]]) -> None:
    report = judge("train", counts)
    assert not report.skewed, report.reason
    assert abs(sum(c.share for c in report.classes) - 1) < 1e-9


def test_no_masks_is_no_warning_but_a_note() -> None:
    report = judge("train", ten_classes({}))
    assert not report.skewed and report.annotated == 0
    assert "paired training needs masks" in report.reason
    assert all(c.share == 0 for c in report.classes)


def test_a_single_class_cannot_be_skewed_and_empty_classes_do_not_count() -> None:
    assert not judge("train", {"only": (10, 50)}).skewed
    report = judge("train", {"a": (10, 50), "b": (10, 50), "ghost": (0, 0)})
    assert not report.skewed and [c.name for c in report.classes] == ["a", "b"]


def test_workspace_coverage_counts_current_non_empty_spurious_masks(demo: Workspace) -> None:
    images = demo.images("train", label="9", limit=3)
    demo.masks.set(images[0].id, np.ones((32, 32), dtype=bool))
    demo.masks.set(images[1].id, np.ones((32, 32), dtype=bool))
    demo.masks.set(images[1].id, np.zeros((32, 32), dtype=bool))  # cleared: not annotated
    demo.masks.set(images[2].id, np.ones((32, 32), dtype=bool), kind="object")
    report = demo.mask_coverage()
    assert report.skewed and report.annotated == 1
    assert [c.name for c in report.classes] == demo.classes
    assert {c.name: c.images for c in report.classes} == {
        name: demo.count("train", label=name) for name in demo.classes
    }
    assert not demo.mask_coverage("test").skewed
    with pytest.raises(DataError, match="no labelled split 'pool'"):
        demo.mask_coverage("pool")
