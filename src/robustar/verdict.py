"""The repair report's verdict in words: a few plain sentences and a one-line conclusion
computed from a comparison (and the regression guard's report), so that a reader need not
interpret the tables to learn whether a repair worked.

Behaviour decides, saliency explains: the conclusion rests on accuracy (with the painted pixels
filled, and clean on the held-out splits) and on the guard; the share of saliency inside the
masks is reported but does not decide, since a saliency method can look elsewhere while the
model still uses the pixels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from robustar.models.versions import GuardReport
from robustar.repair import Comparison, FilledAccuracy, SplitComparison
from robustar.train.options import GUARD_TOLERANCE

Outcome = Literal["improved", "mixed", "regressed", "unchanged", "unmeasured"]
Change = Literal["rose", "held", "fell"]

# The splits whose clean accuracy the conclusion weighs: the train split is what the model was
# fitted to, and a repair may fairly trade some of it (paired training regularises), so its
# figures are stated but do not decide.
HELD_OUT = ("validation", "test")
# Points of saliency share within which it "held". A judgement, not a measurement: the share is
# a mean over at most 200 images of a map that moves with the method's own noise, and a repair
# that works moves it by tens of points; it explains and does not decide, so a loose bound.
SALIENCY_POINTS = 5.0


def noise_points(images: int, *accuracies: float) -> float:
    """One standard error, in points, of a difference between sums of these accuracies on
    `images` images, as if they were independent. On a small split (the annotated images, a
    50-image validation set) one image is more than the guard's tolerance, so a reliance move
    and a clean-accuracy gain count only beyond this too. Measured on the same images, the
    accuracies correlate, which mostly makes the true error smaller: the bound errs towards
    "held"."""
    variance = sum(p * (1 - p) for p in accuracies) / max(images, 1)
    return 100 * math.sqrt(variance)


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    conclusion: str  # one line: the outcome and what decided it
    sentences: list[str]  # one finding each: reliance, saliency, clean accuracy, flips, guard
    tolerance: float  # accuracy points within which a figure "held" (the guard's tolerance)


@dataclass(frozen=True)
class RepairReport(Comparison):
    """A comparison with its verdict in words."""

    verdict: Verdict = field(kw_only=True)  # after Comparison's defaulted fields


def percent(value: float) -> str:
    return f"{100 * value:.1f}%"


def points_word(tolerance: float) -> str:
    return f"{tolerance:g} point" + ("" if tolerance == 1 else "s")


def change(before: float, after: float, tolerance: float) -> Change:
    """'held' within `tolerance` points either way, as the guard counts (a ratio of counts
    has no rounding noise beyond 1e-9)."""
    points = 100 * (after - before)
    if points > tolerance + 1e-7:
        return "rose"
    return "fell" if points < -tolerance - 1e-7 else "held"


def _names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


@dataclass(frozen=True)
class _Finding:
    """Sentences about one kind of figure, and the phrases it adds to the conclusion."""

    sentences: list[str]
    summary: str | None = None  # the conclusion's phrase; None: nothing measured
    good: bool = False
    bad: bool = False


def _reliance(filled: FilledAccuracy | None, tolerance: float) -> _Finding:
    if filled is None:
        return _Finding(
            [
                "No annotated test images, so reliance on the painted pixels is not measured "
                "(annotate some test images, or import their masks, to measure it)."
            ]
        )
    b0, a0 = filled.before_original, filled.after_original
    b1, a1 = filled.before_filled, filled.after_filled
    if b0 is None or a0 is None or b1 is None or a1 is None:
        return _Finding([f"Reliance on the painted pixels is not measured on {filled.split}."])
    lost_before, lost_after = b0 - b1, a0 - a1  # accuracy each version loses when filled
    noise = noise_points(filled.images, b0, a0, b1, a1)
    moved = change(lost_before, lost_after, max(tolerance, noise))
    points = f"{100 * lost_before:.1f} to {100 * lost_after:.1f} points"
    if moved == "held" and noise > tolerance:
        said = f"held ({points}; within the noise of {filled.images} images, {noise:.1f} points)"
    elif moved == "held":
        said = f"held ({points}, within the {tolerance:g}-point tolerance)"
    else:
        said = f"{moved} from {points}"
    sentences = [
        f"Reliance on the painted pixels {said}: that is the accuracy each version loses when "
        f"the masks of the {filled.images} annotated {filled.split} images are filled "
        f"({filled.filler} noise); with them filled, accuracy went from {percent(b1)} to "
        f"{percent(a1)}."
    ]
    sb, sa = filled.before_saliency_in_mask, filled.after_saliency_in_mask
    if sb is not None and sa is not None:
        looks = {
            "fell": "the new version looks elsewhere",
            "rose": "the new version looks more at the painted pixels",
            "held": f"within {SALIENCY_POINTS:g} points, no real change",
        }[change(sb, sa, SALIENCY_POINTS)]
        sentences.append(
            f"The share of saliency inside the masks went from {percent(sb)} to "
            f"{percent(sa)}: {looks}."
        )
    summary = f"reliance on the painted pixels {said if moved != 'held' else 'held'}"
    return _Finding(sentences, summary, good=moved == "fell", bad=moved == "rose")


def _clean(splits: list[SplitComparison], tolerance: float) -> _Finding:
    """Clean accuracy per split. A loss counts as the guard counts it (beyond the tolerance);
    a gain must also clear the noise of the split's images, so the report never calls a
    repair an improvement because one or two images of a small split flipped."""
    by: dict[Change, list[tuple[str, float, float, str]]] = {"rose": [], "held": [], "fell": []}
    unmeasured = []
    for s in splits:
        if s.before is None or s.after is None:
            unmeasured.append(s.split)
            continue
        moved, note = change(s.before, s.after, tolerance), ""
        noise = noise_points(s.images, s.before, s.after)
        if moved == "rose" and 100 * (s.after - s.before) <= noise:
            moved, note = "held", f", a gain within the noise of {s.images} images"
        by[moved].append((s.split, s.before, s.after, note))
    sentences = []
    for moved, group in by.items():
        figures = [
            f"{name} ({percent(old)} → {percent(new)}, {100 * (new - old):+.1f} points{note})"
            for name, old, new, note in group
        ]
        bound = {"rose": "", "held": ", within", "fell": ", beyond"}[moved]
        tolerated = bound and any(not note for *_, note in group)
        tail = f"{bound} the {tolerance:g}-point tolerance" if tolerated else ""
        if figures:
            sentences.append(f"Clean accuracy {moved} on {_names(figures)}{tail}.")
    if unmeasured or not splits:
        which = f"on {_names(unmeasured)}" if unmeasured else "on any split"
        sentences.append(
            f"Clean accuracy is not compared {which}: no predictions of both versions."
        )
    judged = {m: [name for name, *_ in g if name in HELD_OUT] for m, g in by.items()}
    moves = [m for m, names in judged.items() if names]
    if not moves:
        return _Finding(sentences)
    if len(moves) == 1 and sum(map(len, judged.values())) == len(HELD_OUT):
        summary = f"clean accuracy {moves[0]}"  # the same on every held-out split
    else:
        summary = "clean accuracy " + " and ".join(f"{m} on {_names(judged[m])}" for m in moves)
    return _Finding(sentences, summary, good=bool(judged["rose"]), bad=bool(judged["fell"]))


def _flips(splits: list[SplitComparison]) -> _Finding:
    counted = [f"{s.split} {s.fixed} fixed, {s.broken} broken" for s in splits if s.images]
    if not counted:
        return _Finding([])
    return _Finding(
        [
            "Images fixed (wrong before, right after) and broken (right before, wrong after): "
            + "; ".join(counted)
            + "."
        ]
    )


def _guard(guard: GuardReport | None, before: int, after: int) -> _Finding:
    if guard is None:
        return _Finding([])
    parent = f"v{guard.parent_id}" + ("" if guard.parent_id == before else " (its parent)")
    if not guard.checks:
        return _Finding(
            [f"The regression guard adopted v{after} without a check: no validation split."]
        )
    figures = "; ".join(
        f"{c.metric} {percent(c.parent)} → {percent(c.candidate)}" for c in guard.checks
    )
    if guard.passed:
        return _Finding(
            [
                f"The regression guard passed v{after} against {parent}, within "
                f"{points_word(guard.tolerance)} ({figures})."
            ]
        )
    failed = _names([c.metric for c in guard.checks if not c.passed])
    return _Finding(
        [
            f"The regression guard held v{after} back as a candidate: {failed} accuracy fell "
            f"by more than {points_word(guard.tolerance)} against {parent} ({figures})."
        ],
        "the regression guard held it back",
        bad=True,
    )


def judge(comparison: Comparison, guard: GuardReport | None = None) -> Verdict:
    """The verdict on `comparison.after` against `comparison.before`; `guard` is the newer
    version's guard report, whose tolerance then says what "held" means (else the default)."""
    tolerance = guard.tolerance if guard is not None else GUARD_TOLERANCE
    findings = [
        _reliance(comparison.filled, tolerance),
        _clean(comparison.splits, tolerance),
        _flips(comparison.splits),
        _guard(guard, comparison.before, comparison.after),
    ]
    good, bad = any(f.good for f in findings), any(f.bad for f in findings)
    summaries = [f.summary for f in findings if f.summary]
    outcome: Outcome
    if good:
        outcome = "mixed" if bad else "improved"
    elif bad:
        outcome = "regressed"
    else:
        outcome = "unchanged" if summaries else "unmeasured"
    said = "; ".join(summaries) or "nothing to compare (no predictions and no annotated images)"
    return Verdict(
        outcome,
        f"{outcome.capitalize()}: {said}.",
        [sentence for f in findings for sentence in f.sentences],
        tolerance,
    )


def with_verdict(comparison: Comparison, guard: GuardReport | None = None) -> RepairReport:
    """The comparison and its verdict in one report."""
    fields = {name: getattr(comparison, name) for name in Comparison.__dataclass_fields__}
    return RepairReport(**fields, verdict=judge(comparison, guard))
