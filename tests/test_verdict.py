"""The verdict in words, on comparisons built by hand: each branch of the wording."""

from __future__ import annotations

from datetime import datetime

import pytest

from robustar.errors import ConfigError
from robustar.models.versions import GuardCheck, GuardReport, VersionInfo
from robustar.repair import ClassDelta, Comparison, FilledAccuracy, SplitComparison
from robustar.report import format_of, render
from robustar.verdict import judge, with_verdict


def split(name: str, before: float | None, after: float | None, fixed=0, broken=0, images=100):
    per_class = [ClassDelta("cat", before, after), ClassDelta("dog|2", before, after)]
    return SplitComparison(name, images, before, after, fixed, broken, fixed + broken, per_class)


def filled(before_filled: float, after_filled: float, saliency=(0.6, 0.2), images=80):
    return FilledAccuracy(
        "test", images, "uniform", 0.8, 0.8, before_filled, after_filled, *saliency
    )


def comparison(splits, masks: FilledAccuracy | None = None) -> Comparison:
    return Comparison(1, 2, splits, masks)


HELD = [split("train", 0.99, 0.97), split("validation", 0.964, 0.96), split("test", 0.8, 0.8)]


def test_reliance_fell_and_clean_accuracy_held_is_an_improvement() -> None:
    # train fell 2 points: stated, but the held-out splits decide
    verdict = judge(comparison(HELD, filled(0.3, 0.725)))
    assert verdict.outcome == "improved"
    assert verdict.conclusion == (
        "Improved: reliance on the painted pixels fell from 50.0 to 7.5 points; "
        "clean accuracy held."
    )
    reliance, saliency, clean, train, flips = verdict.sentences
    assert "80 annotated test images" in reliance and "from 30.0% to 72.5%" in reliance
    assert saliency.startswith("The share of saliency inside the masks went from 60.0% to 20.0%")
    assert "looks elsewhere" in saliency
    assert clean.startswith("Clean accuracy held on validation (96.4% → 96.0%, -0.4 points)")
    assert train.startswith("Clean accuracy fell on train (99.0% → 97.0%, -2.0 points), beyond")
    assert "within the 1-point tolerance" in clean
    assert flips.startswith("Images fixed (wrong before, right after)")


def test_clean_accuracy_fell_with_reliance_down_is_mixed() -> None:
    splits = [split("validation", 0.964, 0.76, fixed=2, broken=12), split("test", 0.36, 0.6)]
    verdict = judge(comparison(splits, filled(0.3, 0.725)))
    assert verdict.outcome == "mixed"
    assert "clean accuracy rose on test and fell on validation" in verdict.conclusion
    assert any(
        s.startswith("Clean accuracy fell on validation (96.4% → 76.0%") for s in verdict.sentences
    )
    assert any("validation 2 fixed, 12 broken" in s for s in verdict.sentences)


def test_clean_accuracy_fell_and_reliance_rose_is_a_regression() -> None:
    splits = [split("validation", 0.9, 0.7), split("test", 0.5, 0.4)]
    verdict = judge(comparison(splits, filled(0.7, 0.3, saliency=(0.2, 0.5))))
    assert verdict.outcome == "regressed"
    assert verdict.conclusion.startswith(
        "Regressed: reliance on the painted pixels rose from 10.0 to 50.0 points; "
        "clean accuracy fell"
    )
    assert any("looks more at the painted pixels" in s for s in verdict.sentences)


def test_rose_without_reliance_measured_is_an_improvement_and_names_the_missing_masks():
    splits = [split("validation", 0.9, 0.9), split("test", 0.3, 0.5)]
    verdict = judge(comparison(splits))
    assert verdict.outcome == "improved"
    assert verdict.conclusion == ("Improved: clean accuracy rose on test and held on validation.")
    assert verdict.sentences[0].startswith("No annotated test images")
    assert "Clean accuracy rose on test (30.0% → 50.0%, +20.0 points)." in verdict.sentences


def test_nothing_beyond_the_tolerance_is_unchanged() -> None:
    same = filled(0.5, 0.505, saliency=(0.4, 0.43))
    verdict = judge(comparison(HELD, same))
    assert verdict.outcome == "unchanged"
    assert "within 5 points, no real change" in verdict.sentences[1]
    many = judge(comparison(HELD, filled(0.5, 0.505, images=1_000_000)))
    assert many.sentences[0].startswith(
        "Reliance on the painted pixels held (30.0 to 29.5 points, within the 1-point"
    )


def test_a_reliance_move_within_the_noise_of_few_images_held() -> None:
    few = judge(comparison(HELD, filled(0.5, 0.6)))  # 8 of 80 images: 10.1 points of noise
    assert few.outcome == "unchanged"
    assert few.sentences[0].startswith(
        "Reliance on the painted pixels held (30.0 to 20.0 points; within the noise of 80 "
        "images, 10.1 points)"
    )
    many = judge(comparison(HELD, filled(0.5, 0.6, images=8000)))
    assert many.outcome == "improved" and "fell from 30.0 to 20.0 points" in many.conclusion


def test_a_gain_within_the_noise_of_a_small_split_held_but_a_loss_counts() -> None:
    small = [split("validation", 0.02, 0.04, images=50), split("test", 0.025, 0.05, images=80)]
    verdict = judge(comparison(small))
    assert verdict.outcome == "unchanged" and verdict.conclusion.endswith("clean accuracy held.")
    assert (
        "Clean accuracy held on validation (2.0% → 4.0%, +2.0 points, a gain within the noise "
        "of 50 images) and test (2.5% → 5.0%, +2.5 points, a gain within the noise of 80 images)."
    ) in verdict.sentences
    lost = judge(comparison([split("validation", 0.04, 0.02, images=50)]))
    assert lost.outcome == "regressed"  # as the guard would: 2 points beyond its tolerance


def test_no_predictions_and_no_masks_is_unmeasured() -> None:
    verdict = judge(comparison([]))
    assert verdict.outcome == "unmeasured"
    assert "nothing to compare" in verdict.conclusion
    assert any("not compared on any split" in s for s in verdict.sentences)
    partial = judge(comparison([split("validation", None, None), split("test", 0.3, 0.3)]))
    assert any("not compared on validation" in s for s in partial.sentences)
    assert partial.conclusion == "Unchanged: clean accuracy held on test."


def test_the_guards_tolerance_decides_what_held_and_its_verdict_is_told() -> None:
    splits = [split("validation", 0.9, 0.87), split("test", 0.5, 0.5)]
    checks = [GuardCheck("validation", 100, 0.9, 0.87, True)]
    passed = judge(comparison(splits), GuardReport(1, 5.0, checks, True, "ok"))
    assert passed.tolerance == 5.0 and passed.outcome == "unchanged"
    assert "The regression guard passed v2 against v1, within 5 points" in passed.sentences[-1]
    failed_check = [GuardCheck("validation, masks filled", 20, 0.9, 0.5, False)]
    held_back = judge(comparison(splits), GuardReport(3, 1.0, failed_check, False, "no"))
    assert held_back.outcome == "regressed"  # validation fell 3 points, and the guard said no
    assert (
        "held v2 back as a candidate: validation, masks filled accuracy"
        in (held_back.sentences[-1])
    )
    assert "against v3 (its parent)" in held_back.sentences[-1]
    assert "the regression guard held it back" in held_back.conclusion
    unchecked = judge(comparison(splits), GuardReport(1, 1.0, [], True, "no validation"))
    assert "without a check" in unchecked.sentences[-1]


def version(id: int, guard: GuardReport | None = None) -> VersionInfo:
    config = {"epochs": 6, "filler": "uniform", "paired": True} if id == 2 else {}
    made = datetime(2024, 5, 1, 12, 0)
    return VersionInfo(
        id,
        f"v{id}",
        id - 1 or None,
        "tiny_cnn",
        2,
        "trained",
        config,
        {},
        "",
        made,
        id == 2,
        "ready",
        guard,
    )


def test_report_files_put_the_verdict_first_and_escape_what_they_show() -> None:
    report = with_verdict(comparison(HELD, filled(0.3, 0.725)))
    guard = GuardReport(1, 1.0, [GuardCheck("validation", 50, 0.96, 0.96, True)], True, "fine")
    before, after = version(1), version(2, guard)
    md = render(report, before, after, "markdown", datetime(2024, 5, 2, 9, 30))
    assert md.startswith("# Repair report: v2 (v2) against v1 (v1)\n\n## Verdict\n\n**Improved")
    assert "| dog\\|2 | 80.0% | 80.0% | +0.0 |" in md  # a | in a class name keeps the table
    assert "| paired | true |" in md and "Made 2024-05-02 09:30" in md
    page = render(report, before, after, "html")
    assert page.index('class="lead"') < page.index("<h2>Versions</h2>")
    assert "<td>dog|2</td>" in page and "http" not in page and "<script" not in page
    assert "<h2>Regression guard</h2>" in page


def test_the_suffix_names_the_format() -> None:
    assert format_of("out/report.HTML") == "html" and format_of("r.md") == "markdown"
    with pytest.raises(ConfigError, match=r"'\.pdf'"):
        format_of("report.pdf")
