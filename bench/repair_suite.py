"""Repair over the problem suite (issue 11): problems x mask fractions -> vanilla, clean
reference, naive baseline, the product's defaults and the repair search, out of domain.

- *vanilla* and *clean*: plain training with the product's defaults on the shortcut split and
  on the clean reference variant; a problem counts only if clean - vanilla >= 25 points.
- *naive*: the issue's plain-PyTorch script (bench/suite_harness.naive).
- *defaults*: `TrainOptions(paired=True)`: every paired-training option at its default.
- *search*: the candidate that the repair search's criterion (train.search.choose, on the
  validation images' masks of the same fraction) picks among the sweep's settings; how often
  it is the candidate best out of domain, and the rank correlation of its score with the
  out-of-domain accuracy. Seed 0 only (the sweep's candidates).

Shares its cache (bench-output/sweep.jsonl) with the sweep, so `make sweep` first makes this
cheap. The skew case: the demo with masks on one class only (bench/repair_skew.py).
"""

from __future__ import annotations

import json
import statistics
import time
from typing import Any

from scipy.stats import spearmanr

from bench.common import OUTPUT, table
from bench.repair_sweep import CACHE, GRID, Runs
from bench.suite_harness import COUNTS, load, naive, recovered, train
from robustar.data.problems import PROBLEMS
from robustar.train.options import TrainOptions
from robustar.train.search import Figures, choose

SEEDS = (0, 1, 2)
FRACTIONS = (0.1, 0.3, 1.0)
MIN_GAP = 0.25
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
    setting: dict[str, Any] = {k: getattr(defaults, k) for k in ("filler", "init", "pair_weight")}
    if not defaults.borrow:
        setting["borrow"] = False
    return setting


def run(
    kinds: tuple[str, ...] | None = None,
    seeds: tuple[int, ...] = SEEDS,
    fractions: tuple[float, ...] = FRACTIONS,
    epochs: int = 10,
    counts: dict[str, int] = COUNTS,
    cache: Any = CACHE,
    grid: list[dict[str, Any]] = GRID,
) -> str:
    runs = Runs(cache)
    default = default_setting()
    rows: list[list[object]] = []
    search_rows: list[list[object]] = []
    correlations: list[float] = []
    hits = 0
    for kind in kinds or tuple(PROBLEMS.names()):
        table_of: dict[float, dict[str, list[float]]] = {f: {} for f in fractions}
        vanillas, cleans = [], []
        for seed in seeds:
            data = load(kind, seed, counts)
            plain = TrainOptions(epochs=epochs, seed=seed)
            parent: dict = {}

            def vanilla(data: Any = data, plain: TrainOptions = plain, parent: dict = parent):
                result, state = train(data, plain)
                parent.update(state)
                return result

            vanillas.append(runs.get(f"{kind}/{seed}/vanilla/{epochs}", vanilla)["ood"])
            cleans.append(
                runs.get(
                    f"{kind}/{seed}/clean/{epochs}",
                    lambda data=data, plain=plain: train(data, plain, reference=True)[0],
                )["ood"]
            )
            for fraction in fractions:
                masks = data.mask_share(fraction, seed)

                def setting_run(setting: dict[str, Any], data=data, masks=masks, seed=seed):
                    options = TrainOptions(paired=True, epochs=epochs, seed=seed, **setting)
                    if options.init == "current":
                        options = options.model_copy(update={"epochs": max(1, epochs // 2)})
                        if not parent:
                            parent.update(train(data, TrainOptions(epochs=epochs, seed=seed))[1])
                    key = f"{kind}/{seed}/{json.dumps(setting, sort_keys=True)}/{fraction}/{epochs}"
                    return runs.get(
                        key, lambda: train(data, options, masks=masks, parent=parent)[0]
                    )

                cell = table_of[fraction]
                cell.setdefault("naive", []).append(
                    runs.get(
                        f"{kind}/{seed}/naive/{fraction}/{epochs}",
                        lambda data=data, masks=masks, seed=seed: naive(data, masks, epochs, seed),
                    )["ood"]
                )
                cell.setdefault("defaults", []).append(setting_run(default)["ood"])
                if seed == seeds[0]:
                    found = [setting_run(s) for s in grid]
                    figures = [
                        Figures(r["validation"], r["filled"] or 0.0, r["consistency"] or 0.0)
                        for r in found
                    ]
                    chosen = choose(figures, tolerance=1.0)
                    ood = [r["ood"] for r in found]
                    best = max(range(len(ood)), key=ood.__getitem__)
                    hits += chosen == best
                    if len(set(ood)) > 1:
                        scores = [(f.filled + f.consistency) / 2 for f in figures]
                        correlations.append(float(spearmanr(scores, ood).statistic))
                    cell.setdefault("search", []).append(ood[chosen])
                    search_rows.append(
                        [kind, f"{fraction:.0%}", json.dumps(grid[chosen]), f"{ood[chosen]:.3f}",
                         json.dumps(grid[best]), f"{ood[best]:.3f}"]
                    )
        vanilla_ood, clean_ood = statistics.mean(vanillas), statistics.mean(cleans)
        gap = clean_ood - vanilla_ood
        for fraction in fractions:
            cell = table_of[fraction]
            row: list[object] = [kind, f"{fraction:.0%}", f"{vanilla_ood:.3f}", f"{clean_ood:.3f}"]
            for name in ("naive", "defaults", "search"):
                values = cell.get(name)
                if not values:
                    row.append("")
                    continue
                mean = statistics.mean(values)
                row.append(f"{mean:.3f} ({recovered(mean, vanilla_ood, clean_ood):.0%})")
            row.append("yes" if gap >= MIN_GAP else f"no: gap {gap:.2f}")
            rows.append(row)
    lines = [
        table(
            f"Repair on the problem suite: out-of-domain accuracy (gap recovered), mean of seeds "
            f"{seeds} (search: seed {seeds[0]}); defaults = {default}; targets: defaults recover "
            ">= 2/3 at 100 %, >= 1/3 at 10 %, and beat naive at every fraction",
            ["problem", "masks", "vanilla", "clean", "naive", "defaults", "search", "counts"],
            rows,
        ),
        table(
            f"Repair search on {len(grid)} candidates (seed {seeds[0]}): chosen vs best out of "
            f"domain; the chosen is the best in {hits} of {len(search_rows)} cases; rank "
            f"correlation of the criterion with out-of-domain accuracy: mean "
            f"{statistics.mean(correlations) if correlations else float('nan'):.2f}",
            ["problem", "masks", "chosen", "its ood", "best", "best ood"],
            search_rows,
        ),
    ]
    return "\n\n".join(lines)


if __name__ == "__main__":
    started = time.perf_counter()
    print(run(), flush=True)
    print(f"({time.perf_counter() - started:.0f} s)")
