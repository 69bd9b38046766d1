"""Timing and table helpers shared by the benchmarks."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from robustar.data.spurious_digits import DemoSpec

OUTPUT = Path(__file__).resolve().parent.parent / "bench-output"


def scaled_demo(share: float, **changes: object) -> DemoSpec:
    """The demo's spec with every split at `share` of its default size (smoke runs use less)."""
    counts = tuple((split, max(1, round(n * share))) for split, n in DemoSpec().counts)
    return replace(DemoSpec(), counts=counts, **changes)


def best_of(repeats: int, run: Callable[[], object]) -> float:
    """Fastest wall time of `repeats` runs: the least disturbed by other load."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def table(title: str, header: list[str], rows: list[list[object]]) -> str:
    cells = [header, *[[str(c) for c in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = [title, "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in cells[1:]]
    return "\n".join(lines)
