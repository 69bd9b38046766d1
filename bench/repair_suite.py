"""Repair over the problem suite (issue 11): problems x mask fractions -> vanilla, clean
reference, naive baseline, the product's defaults and the repair search, out of domain.

- *vanilla* and *clean*: plain training with the product's defaults on the shortcut split and
  on the clean reference variant; a problem counts only if clean - vanilla >= 25 points.
- *naive*: the issue's plain-PyTorch script (bench/suite_harness.naive).
- *defaults*: `TrainOptions(paired=True)`: every paired-training option at its default.
- *search*: the candidate that the repair search's criterion (train.search.choose, on the
  validation images' masks of the same fraction) picks among its default grid; how often
  it is the candidate best out of domain, and the rank correlation of its score with the
  out-of-domain accuracy. Seed 0 only (the sweep's candidates).

Shares its cache (bench-output/sweep.jsonl) with the sweep, so `make sweep` first makes this
cheap. The skew case: the demo with masks on one class only (bench/repair_skew.py).
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path
from typing import Any

from scipy.stats import spearmanr

from bench.common import OUTPUT, table
from bench.repair_sweep import CACHE, Runs, canonical, options_for, product
from bench.suite_harness import COUNTS, Result, load, naive, recovered, train
from robustar.data.problems import PROBLEMS
from robustar.train.options import TrainOptions
from robustar.train.search import DEFAULT_GRID, Figures, choose, score

SEEDS = (0, 1, 2)
FRACTIONS = (0.1, 0.3, 1.0)
MIN_GAP = 0.25
# The repair search's own default grid, from scratch (the default init).
GRID = [canonical(setting) for setting in product(**DEFAULT_GRID)]
SMOKE = {
    "kinds": ("patch",),
    "seeds": (0,),
    "fractions": (1.0,),
    "epochs": 1,
    "counts": {**{split: 40 for split in COUNTS}, "test": 0},
    "cache": OUTPUT / "suite-smoke.jsonl",
    "grid": [{"filler": "uniform", "init": "scratch", "pair_weight": 1.0}],
}


def default_setting() -> dict[str, Any]:
    """The paired defaults as a sweep setting (the same cache key when they are one)."""
    defaults = TrainOptions(paired=True)
    keys = ("filler", "init", "pair_weight", "borrow", "copy_loss")
    return canonical({k: getattr(defaults, k) for k in keys})


class Seeded:
    """One problem at one seed: its runs, cached by key, and the vanilla weights that a
    fine-tune starts from (trained again, identically, when the vanilla run was cached)."""

    def __init__(self, kind: str, seed: int, counts: dict[str, int], epochs: int, runs: Runs):
        self.kind, self.seed, self.epochs, self.runs = kind, seed, epochs, runs
        self.data = load(kind, seed, counts)
        self.plain = TrainOptions(epochs=epochs, seed=seed)
        self.parent: dict = {}

    def _vanilla(self) -> Result:
        result, state = train(self.data, self.plain)
        self.parent.update(state)
        return result

    def baseline(self, reference: bool) -> float:
        if reference:
            compute = lambda: train(self.data, self.plain, reference=True)[0]  # noqa: E731
        else:
            compute = self._vanilla
        name = "clean" if reference else "vanilla"
        return self.runs.get(f"{self.kind}/{self.seed}/{name}/{self.epochs}", compute)["ood"]

    def naive(self, fraction: float) -> float:
        masks = self.data.mask_share(fraction, self.seed)
        key = f"{self.kind}/{self.seed}/naive/{fraction}/{self.epochs}"
        return self.runs.get(key, lambda: naive(self.data, masks, self.epochs, self.seed))["ood"]

    def setting(self, setting: dict[str, Any], fraction: float) -> dict[str, float]:
        """A paired run (the sweep's key); a fine-tune takes half the epochs, as in the sweep."""
        options = options_for(setting, self.epochs, self.seed)
        masks = self.data.mask_share(fraction, self.seed)
        name = json.dumps(setting, sort_keys=True)
        key = f"{self.kind}/{self.seed}/{name}/{fraction}/{self.epochs}"

        def compute() -> Result:
            if options.init == "current" and not self.parent:
                self._vanilla()
            return train(self.data, options, masks=masks, parent=self.parent)[0]

        return self.runs.get(key, compute)


def search(found: list[dict[str, float]]) -> tuple[int, int, float | None]:
    """The criterion's choice among candidates, the out-of-domain best, and the rank
    correlation of the criterion's score with out-of-domain accuracy."""
    figures = [Figures(r["validation"], r["filled"] or 0.0, r["consistency"] or 0.0) for r in found]
    ood = [r["ood"] for r in found]
    best = max(range(len(ood)), key=ood.__getitem__)
    rho = None
    if len(set(ood)) > 1:
        rho = float(spearmanr([score(f) for f in figures], ood).statistic)
    return choose(figures, tolerance=1.0), best, rho


def run(
    kinds: tuple[str, ...] | None = None,
    seeds: tuple[int, ...] = SEEDS,
    fractions: tuple[float, ...] = FRACTIONS,
    epochs: int = 10,
    counts: dict[str, int] = COUNTS,
    cache: Path = CACHE,
    grid: list[dict[str, Any]] = GRID,
) -> str:
    runs = Runs(cache)
    default = default_setting()
    rows: list[list[object]] = []
    search_rows: list[list[object]] = []
    correlations: list[float] = []
    hits = 0
    for kind in kinds or tuple(PROBLEMS.names()):
        cells: dict[tuple[float, str], list[float]] = {}
        vanillas, cleans = [], []
        for seed in seeds:
            problem = Seeded(kind, seed, counts, epochs, runs)
            vanillas.append(problem.baseline(reference=False))
            cleans.append(problem.baseline(reference=True))
            for fraction in fractions:
                cells.setdefault((fraction, "naive"), []).append(problem.naive(fraction))
                defaults = problem.setting(default, fraction)["ood"]
                cells.setdefault((fraction, "defaults"), []).append(defaults)
                if seed != seeds[0]:
                    continue
                found = [problem.setting(s, fraction) for s in grid]
                chosen, best, rho = search(found)
                hits += chosen == best
                if rho is not None:
                    correlations.append(rho)
                cells[(fraction, "search")] = [found[chosen]["ood"]]
                search_rows.append(
                    [
                        kind,
                        f"{fraction:.0%}",
                        json.dumps(grid[chosen]),
                        f"{found[chosen]['ood']:.3f}",
                        json.dumps(grid[best]),
                        f"{found[best]['ood']:.3f}",
                    ]
                )
        vanilla, clean = statistics.mean(vanillas), statistics.mean(cleans)
        for fraction in fractions:
            row: list[object] = [kind, f"{fraction:.0%}", f"{vanilla:.3f}", f"{clean:.3f}"]
            for name in ("naive", "defaults", "search"):
                mean = statistics.mean(cells[(fraction, name)])
                row.append(f"{mean:.3f} ({recovered(mean, vanilla, clean):.0%})")
            gap = clean - vanilla
            row.append("yes" if gap >= MIN_GAP else f"no: gap {gap:.2f}")
            rows.append(row)
    rho = statistics.mean(correlations) if correlations else float("nan")
    return "\n\n".join(
        [
            table(
                f"Repair on the problem suite: out-of-domain accuracy (gap recovered), mean of "
                f"seeds {seeds} (search: seed {seeds[0]}); defaults = {default}; targets: the "
                "defaults recover >= 2/3 at 100 %, >= 1/3 at 10 %, and beat naive everywhere",
                ["problem", "masks", "vanilla", "clean", "naive", "defaults", "search", "counts"],
                rows,
            ),
            table(
                f"Repair search over {len(grid)} candidates (seed {seeds[0]}): the chosen is the "
                f"best out of domain in {hits} of {len(search_rows)} cases; rank correlation of "
                f"the criterion with out-of-domain accuracy, mean {rho:.2f}",
                ["problem", "masks", "chosen", "its ood", "best", "best ood"],
                search_rows,
            ),
        ]
    )


if __name__ == "__main__":
    started = time.perf_counter()
    print(run(), flush=True)
    print(f"({time.perf_counter() - started:.0f} s)")
