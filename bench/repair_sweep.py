"""The defaults sweep (`make sweep`): paired-training settings over the problem suite, with
leave-one-problem-out.

For every problem kind: the vanilla model and the clean reference (plain training, the
product's defaults), then every setting of the grid with the true masks of 10 % and 100 % of
the training images, one seed. A setting's score on a problem is its share of the
vanilla-to-clean out-of-domain gap recovered, averaged over the two fractions.

Leave-one-problem-out: for each problem, the setting with the best mean score on the *other*
problems is the one that problem gets; it must reach 90 % of the best setting's score there
and beat the naive baseline. The table goes to stdout (and into docs/decisions.md by hand).
Every finished run is cached in bench-output/sweep.jsonl, so an interrupted sweep goes on.
"""

from __future__ import annotations

import itertools
import json
import statistics
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bench.common import OUTPUT, table
from bench.suite_harness import COUNTS, Loaded, Result, load, naive, recovered, train
from robustar.data.problems import PROBLEMS
from robustar.train.options import TrainOptions


def product(**grid: list[Any]) -> list[dict[str, Any]]:
    """Every combination of the values, as settings (option -> value)."""
    return [dict(zip(grid, values, strict=True)) for values in itertools.product(*grid.values())]


def canonical(setting: dict[str, Any]) -> dict[str, Any]:
    """The setting as the cache names it: from scratch at λ = 1 unless it says otherwise, and
    the switches that are off by default (borrow, copy_loss) left out."""
    named = {"init": "scratch", "pair_weight": 1.0, **setting}
    return {k: v for k, v in named.items() if not (k in ("borrow", "copy_loss") and v is False)}


# From scratch: two fillers x two weights (λ = 0.2, the old default, recovered least on the
# first problem); fine-tuning and borrowing only where they could change the choice (a full
# grid is hours on 2 cores).
GRID: list[dict[str, Any]] = [
    *product(init=["scratch"], filler=["uniform", "mixture"], pair_weight=[1.0, 5.0]),
    *product(init=["current"], filler=["uniform"], pair_weight=[5.0]),
    {"init": "scratch", "filler": "uniform", "pair_weight": 1.0, "borrow": True},
    {"init": "scratch", "filler": "swap", "pair_weight": 1.0},
    {"init": "scratch", "filler": "swap", "pair_weight": 1.0, "copy_loss": True},
]
FRACTIONS = (0.1, 1.0)
CACHE = OUTPUT / "sweep.jsonl"
SMOKE = {
    "kinds": ("patch",),
    "grid": [{"filler": "uniform", "pair_weight": 1.0}],
    "epochs": 1,
    "counts": {**{split: 40 for split in COUNTS}, "test": 0},
    "cache": OUTPUT / "sweep-smoke.jsonl",
}


class Runs:
    """Results by key, read from and appended to a JSON-lines cache."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.done: dict[str, dict[str, float]] = {}
        if path.is_file():
            for line in path.read_text().splitlines():
                row = json.loads(line)
                self.done[row["key"]] = row["result"]

    def get(self, key: str, compute: Any) -> dict[str, float]:
        if key not in self.done:
            result: Result = compute()
            self.done[key] = {
                "ood": result.ood,
                "validation": result.validation,
                "filled": result.filled,
                "consistency": result.consistency,
            }
            with self.path.open("a") as out:
                out.write(json.dumps({"key": key, "result": self.done[key]}) + "\n")
        return self.done[key]


def options_for(setting: dict[str, Any], epochs: int, seed: int) -> TrainOptions:
    fine_tune = setting.get("init") == "current"
    return TrainOptions(
        paired=True,
        epochs=max(1, epochs // 2) if fine_tune and epochs > 1 else epochs,
        seed=seed,
        **setting,
    )


def problem_runs(
    data: Loaded, grid: list[dict[str, Any]], epochs: int, seed: int, runs: Runs
) -> dict[str, Any]:
    """Vanilla, clean, naive and every setting at every fraction on one problem."""
    kind = data.problem.kind
    plain = TrainOptions(epochs=epochs, seed=seed)
    parent: dict = {}

    def vanilla() -> Result:
        result, state = train(data, plain)
        parent.update(state)
        return result

    base = runs.get(f"{kind}/{seed}/vanilla/{epochs}", vanilla)
    clean = runs.get(f"{kind}/{seed}/clean/{epochs}", lambda: train(data, plain, reference=True)[0])
    out: dict[str, Any] = {"vanilla": base["ood"], "clean": clean["ood"], "naive": {}, "grid": {}}
    for fraction in FRACTIONS:
        masks = data.mask_share(fraction, seed)
        out["naive"][fraction] = runs.get(
            f"{kind}/{seed}/naive/{fraction}/{epochs}",
            lambda m=masks: naive(data, m, epochs, seed),
        )["ood"]
        for setting in grid:
            options = options_for(setting, epochs, seed)
            if options.init == "current" and not parent:
                parent.update(train(data, plain)[1])  # the cached vanilla's weights
            key = f"{kind}/{seed}/{json.dumps(setting, sort_keys=True)}/{fraction}/{epochs}"
            result = runs.get(
                key, lambda o=options, m=masks: train(data, o, masks=m, parent=parent)[0]
            )
            out["grid"].setdefault(json.dumps(setting, sort_keys=True), {})[fraction] = result[
                "ood"
            ]
    return out


def score(values: dict[float, float], vanilla: float, clean: float) -> float:
    return statistics.mean(recovered(v, vanilla, clean) for v in values.values())


def ratio(value: float, best: float) -> str:
    """The chosen setting's recovery as a share of the best one's (none where nothing
    recovered any of the gap)."""
    return f"{value / best:.0%}" if best > 0 else "n/a: no setting recovers"


def leave_one_out(per_problem: dict[str, dict[str, Any]]) -> list[list[object]]:
    kinds = list(per_problem)
    scores = {
        kind: {
            setting: score(values, p["vanilla"], p["clean"])
            for setting, values in p["grid"].items()
        }
        for kind, p in per_problem.items()
    }
    rows: list[list[object]] = []
    for held in kinds:
        others = [k for k in kinds if k != held]
        chosen = max(scores[held], key=lambda s: statistics.mean(scores[k][s] for k in others))
        best = max(scores[held], key=lambda s: scores[held][s])
        p = per_problem[held]
        naive_score = score(p["naive"], p["vanilla"], p["clean"])
        rows.append(
            [
                held,
                chosen,
                f"{scores[held][chosen]:.0%}",
                f"{scores[held][best]:.0%} ({best})",
                ratio(scores[held][chosen], scores[held][best]),
                f"{naive_score:.0%}",
            ]
        )
    return rows


def run(
    kinds: Iterable[str] | None = None,
    grid: list[dict[str, Any]] = GRID,
    epochs: int = 10,
    counts: dict[str, int] = COUNTS,
    cache: Path = CACHE,
    seed: int = 0,
) -> str:
    runs = Runs(cache)
    per_problem = {}
    for kind in kinds or PROBLEMS.names():
        data = load(kind, seed, counts)
        per_problem[kind] = problem_runs(data, grid, epochs, seed, runs)
    overall = {
        setting: statistics.mean(
            score(p["grid"][setting], p["vanilla"], p["clean"]) for p in per_problem.values()
        )
        for setting in next(iter(per_problem.values()))["grid"]
    }
    ranked = sorted(overall.items(), key=lambda item: -item[1])
    lines = [
        table(
            f"Defaults sweep: gap recovered out of domain, mean of {FRACTIONS} masks, mean over "
            f"{len(per_problem)} problems, seed {seed}, {epochs} epochs (fine-tune: half)",
            ["setting", "mean", *per_problem],
            [
                [
                    setting,
                    f"{mean:.0%}",
                    *(
                        f"{score(p['grid'][setting], p['vanilla'], p['clean']):.0%}"
                        for p in per_problem.values()
                    ),
                ]
                for setting, mean in ranked
            ],
        ),
        table(
            "Vanilla / clean out of domain, and the naive baseline's recovery",
            ["problem", "vanilla", "clean", "naive"],
            [
                [
                    k,
                    f"{p['vanilla']:.3f}",
                    f"{p['clean']:.3f}",
                    f"{score(p['naive'], p['vanilla'], p['clean']):.0%}",
                ]
                for k, p in per_problem.items()
            ],
        ),
    ]
    if len(per_problem) > 1:
        lines.append(
            table(
                "Leave one problem out: the setting chosen on the others, on the held-out one",
                [
                    "held out",
                    "chosen on the others",
                    "its recovery",
                    "best there",
                    "ratio",
                    "naive",
                ],
                leave_one_out(per_problem),
            )
        )
    return "\n\n".join(lines)


if __name__ == "__main__":
    started = time.perf_counter()
    print(run(), flush=True)
    print(f"({time.perf_counter() - started:.0f} s)")
