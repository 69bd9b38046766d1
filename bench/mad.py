"""MAD (issue 14): failure discovery by model disagreement, through the product (`Workspace.mad`).

Per seed, a `patch` problem (10 classes, 24 px): the target is trained on the shortcut
splits; its competitors are a weaker shortcut model and four models trained on the clean
reference (other epochs and architectures), imported as user checkpoints. The pool is the
out-of-domain split, whose true classes the generator knows; a slice of it is held out (the
workspace's test split) and never selected. Raters are simulated from the truth: 1-2 when the
target is wrong, 4-5 when right, a uniform 1-5 one time in ten, three raters per image.

Printed:
- the target's error rate on MAD's candidates against random and entropy picks of the same
  number of pool images (target: ≥ 2x random, or ≥ 0.6 when random exceeds 0.3);
- the gain after one and two rounds (fine-tune on the worst-rated, labelled) against entropy
  sampling with the same labelling budget, on the held-out slice and on a fresh MAD test set
  (the next round's candidates, which neither fine-tune saw), mean ± 95 % interval
  over seeds (target: MAD ≥ entropy on both);
- Kendall τ and Spearman of the MAD ranking of the 6 models (its default settings) against
  their accuracy on the labelled pool (target: τ ≥ 0.7, mean over seeds);
- pool scoring throughput against a bare PyTorch loop over the same images (target ≥ 0.9x);
- 1M synthetic score rows streamed through the storage and the selection: peak traced memory
  at 10 % and at 100 % of the rows, and the bytes stored per image and model.
"""

from __future__ import annotations

import shutil
import statistics
import time
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy import stats
from sqlalchemy import delete, func, insert, select, text
from torch.utils.data import DataLoader

from bench.common import OUTPUT, table
from robustar import Workspace
from robustar.data.dataset import ImageDataset, IndexedImage
from robustar.data.problems import generate
from robustar.db.tables import Image, MadScore
from robustar.discover.mad.hierarchy import distances
from robustar.discover.mad.scores import score_rows
from robustar.discover.mad.select import select_pair
from robustar.discover.mad.settings import MadSettings
from robustar.errors import DataError

SEEDS = (0, 1, 2)
CLASSES = 10
COUNTS = {
    "train": 600,
    "validation": 100,
    "test": 500,  # in-domain images, moved into the pool
    "ood": 500,
    "reference-train": 600,
    "reference-validation": 100,
}
HOLDOUT = 0.3  # of the pool, kept out of it as the labelled test slice
EPOCHS = 8
# labels per round: 12 to train, up to 30 to test (a round here has only 20-40 candidates)
ROUND = {"worst": 12, "test_size": 30}
STREAM_ROWS = 1_000_000
SMOKE = {
    "seeds": (0,),
    "counts": {
        "train": 60,
        "validation": 10,
        "test": 4,
        "ood": 80,
        "reference-train": 60,
        "reference-validation": 10,
    },
    "epochs": 1,
    "threshold": 0.1,
    "stream_rows": 20_000,
}


def _ids(ws: Workspace, split: str) -> dict[int, int]:
    """Image id -> true class, from the folder the generator wrote it to."""
    with ws.session() as session:
        rows = session.execute(select(Image.id, Image.relpath).where(Image.split == split))
        return {i: int(rel.split("/")[0]) for i, rel in rows}


def _predicted(ws: Workspace, version: int) -> dict[int, tuple[int, float]]:
    """The stored pool answers of a version: image id -> (class, entropy)."""
    with ws.session() as session:
        rows = session.execute(
            select(MadScore.image_id, MadScore.predicted, MadScore.entropy).where(
                MadScore.version_id == version
            )
        )
        return {i: (c, e) for i, c, e in rows}


def _rate(ws: Workspace, round_id: int, truth: dict[int, int], rng: np.random.Generator) -> None:
    for candidate in {c.image_id: c for c in ws.mad.candidates(round_id)}.values():
        wrong = candidate.target_class != truth[candidate.image_id]
        for rater in ("r1", "r2", "r3"):
            score = rng.integers(1, 3) if wrong else rng.integers(4, 6)
            if rng.random() < 0.1:
                score = rng.integers(1, 6)
            ws.mad.rate(round_id, candidate.image_id, int(score), rater)


def _mad_round(
    ws: Workspace,
    target: int,
    others: list[int],
    truth: dict[int, int],
    rng: np.random.Generator,
    seed: int,
    threshold: float,
) -> tuple[int, list[int], list[int]]:
    """A round rated and picked, every pick labelled: (round id, train picks, test picks)."""
    for lower in (threshold, 0.6, 0.4):  # as the product's error suggests, when none qualify
        try:
            found = ws.mad.round(
                target, others, seed=seed, threshold=min(threshold, lower), **ROUND
            )
            break
        except DataError:
            if lower == 0.4:
                raise
    _rate(ws, found.id, truth, rng)
    train, test = ws.mad.pick(found.id)
    for image in [*train, *test]:
        ws.mad.label(found.id, image, truth[image])
    return found.id, train, test


def _extra(ws: Workspace, labels: dict[int, int]) -> ImageDataset:
    """Pool images with their true classes, as the entropy arm's labelled set."""
    with ws.session() as session:
        rows = session.execute(select(Image.id, Image.relpath).where(Image.id.in_(list(labels))))
        items = [
            IndexedImage(i, ws.images_store.folder("pool") / rel, labels[i]) for i, rel in rows
        ]
    return ImageDataset(items, ws.images_store.transform, ws.images_store.reading)


def _models(
    root: Path, seed: int, counts: dict[str, int], epochs: int
) -> tuple[Workspace, list[int]]:
    problem = generate(
        "patch", root / "problem", counts=counts, classes=CLASSES, size=24, seed=seed
    )
    pool, holdout = problem.folder("ood"), problem.root / "data" / "holdout"
    rng = np.random.default_rng(seed)
    for path in sorted(problem.folder("test").rglob("*.png")):
        path.rename(pool / path.parent.name / f"in-domain-{path.name}")
    for path in sorted(pool.rglob("*.png")):
        if rng.random() < HOLDOUT:
            (holdout / path.parent.name).mkdir(parents=True, exist_ok=True)
            path.rename(holdout / path.parent.name / path.name)
    train = {"batch_size": 32, "learning_rate": 3e-3, "predict": False, "seed": seed}
    clean = []
    reference = problem.config(reference=True)
    reference.data.test = str(holdout)
    with Workspace.create(root / "ref", reference) as ref:
        for architecture, n in (("small_cnn", epochs), ("small_cnn", max(1, epochs // 4))):
            version = ref.train(architecture=architecture, epochs=n, **train)
            clean.append((ref.root / version.checkpoint, architecture, f"clean {n} epochs"))
        version = ref.train(architecture="tiny_cnn", epochs=epochs, **train)
        clean.append((ref.root / version.checkpoint, "tiny_cnn", f"clean tiny {epochs} epochs"))
        version = ref.train(architecture="tiny_cnn", epochs=1, **train)
        clean.append((ref.root / version.checkpoint, "tiny_cnn", "clean tiny 1 epoch"))
    config = problem.config()
    config.data.test = str(holdout)
    config.data.pool = str(pool)
    ws = Workspace.create(root / "ws", config)
    weak = ws.train(epochs=max(1, epochs // 4), **train)
    target = ws.train(epochs=epochs, **train)
    ws.mad.add(weak.id)
    competitors = [ws.mad.import_competitor(*c).version_id for c in clean]
    ws.mad.score()
    return ws, [target.id, weak.id, *competitors]


def _seed(
    root: Path, seed: int, counts: dict[str, int], epochs: int, threshold: float
) -> dict[str, Any]:
    ws, versions = _models(root, seed, counts, epochs)
    target, others = versions[0], versions[1:]
    truth, holdout = _ids(ws, "pool"), _ids(ws, "test")
    rng = np.random.default_rng(100 + seed)
    answers = _predicted(ws, target)

    def error(ids: list[int]) -> float:
        return sum(answers[i][0] != truth[i] for i in ids) / max(1, len(ids))

    # error rates at the same budget
    first, train1, _ = _mad_round(ws, target, others, truth, rng, seed, threshold)
    candidates = sorted({c.image_id for c in ws.mad.candidates(first)})
    budget = len(candidates)
    by_entropy = sorted(answers, key=lambda i: -answers[i][1])
    errors = {
        "MAD": error(candidates),
        "random": error([int(i) for i in rng.choice(sorted(answers), budget, replace=False)]),
        "entropy": error(by_entropy[:budget]),
    }
    # two rounds of each arm, the same number of training labels
    mad_versions, entropy_versions, fresh_sets = [target], [target], []
    labelled: dict[int, int] = {}
    picks = [train1]
    mad_round = first
    for step in range(2):
        mad_version = ws.mad.finetune(mad_round).id
        last = entropy_versions[-1]
        ranked = sorted(_predicted(ws, last).items(), key=lambda item: -item[1][1])
        fresh = [i for i, _ in ranked if i not in labelled][: len(picks[-1])]
        labelled.update({i: truth[i] for i in fresh})
        entropy_version = ws.train(
            init="current", epochs=5, parent=last, extra=_extra(ws, labelled), predict=False
        ).id
        ws.mad.add(entropy_version)
        ws.mad.score([entropy_version])
        mad_versions.append(mad_version)
        entropy_versions.append(entropy_version)
        mad_round, train_next, _ = _mad_round(ws, mad_version, others, truth, rng, seed, threshold)
        picks.append(train_next)
        # every candidate of the next round: selected after this fine-tune, trained on by none
        fresh_sets.append({c.image_id: truth[c.image_id] for c in ws.mad.candidates(mad_round)})
        del step
    gains = {}
    for arm, chain in (("MAD", mad_versions), ("entropy", entropy_versions)):
        for k in (1, 2):
            fresh = fresh_sets[k - 1]
            gains[(arm, k, "held-out slice")] = _gain(ws, chain[0], chain[k], holdout)
            gains[(arm, k, "fresh MAD test set")] = _gain(ws, chain[0], chain[k], fresh)
    # ranking of the six models on the labelled pool
    ranking = ws.mad.ranking(versions, labels=truth)
    strength = {m.version_id: m.strength for m in ranking.models}
    accuracy = {v: ws.mad.accuracy(v, truth) or 0.0 for v in versions}
    tau = stats.kendalltau([strength[v] for v in versions], [accuracy[v] for v in versions])
    rho = stats.spearmanr([strength[v] for v in versions], [accuracy[v] for v in versions])
    throughput = _throughput(ws, target)
    ws.close()
    return {
        "errors": errors,
        "budget": budget,
        "gains": gains,
        "kendall": float(tau.statistic),
        "spearman": float(rho.statistic),
        "accuracies": sorted(accuracy.values()),
        "throughput": throughput,
    }


def _gain(ws: Workspace, before: int, after: int, truth: dict[int, int]) -> float:
    if not truth:
        return float("nan")
    return (ws.mad.accuracy(after, truth) or 0.0) - (ws.mad.accuracy(before, truth) or 0.0)


def _throughput(ws: Workspace, version: int, repeats: int = 5) -> tuple[float, float]:
    """Pool images per second: the scoring job's path, and a bare loop over the same dataset."""
    ids = sorted(_ids(ws, "pool"))
    model = ws.model_store.load(version).eval()
    dataset = ws.mad._dataset(ws.mad.competitor(version), ids)
    batch = ws.config.runtime.batch_size

    def bare() -> None:
        with torch.inference_mode():
            for x, *_ in DataLoader(dataset, batch_size=batch):
                model(x).softmax(1).max(1)

    def product() -> None:
        ws.mad.score([version])

    best = {"bare": float("inf"), "product": float("inf")}
    for _ in range(repeats):  # interleaved, so a change in load hits both
        with ws.session() as session:
            session.execute(delete(MadScore).where(MadScore.version_id == version))
        for name, job in (("bare", bare), ("product", product)):
            started = time.perf_counter()
            job()
            best[name] = min(best[name], time.perf_counter() - started)
    timings = {name: len(ids) / seconds for name, seconds in best.items()}
    return timings["product"], timings["bare"]


def _stream(root: Path, rows: int) -> list[list[object]]:
    """`rows` synthetic answers of two models (half the rows each) written the way the scoring
    job writes them, then a selection, at 10 % and at 100 % of the rows."""
    problem = generate("patch", root / "problem", counts=SMOKE["counts"], classes=CLASSES, size=24)
    config = problem.config()
    config.data.pool = str(problem.folder("ood"))
    ws = Workspace.create(root / "ws", config)
    a = ws.train(architecture="tiny_cnn", epochs=1, predict=False).id
    b = ws.train(architecture="tiny_cnn", epochs=1, predict=False, seed=1).id
    with ws.session() as session:
        session.execute(delete(MadScore))
        first = (session.scalar(select(func.max(Image.id))) or 0) + 1
    images = rows // 2
    rng = np.random.default_rng(0)
    chunk, found, written = max(1, min(10_000, images // 10)), [], 0
    checkpoints = {images // 10, images}
    distance = distances([str(c) for c in range(CLASSES)], None)
    tracemalloc.start()
    tracemalloc.reset_peak()
    for start in range(first, first + images, chunk):
        stop = min(start + chunk, first + images)
        with ws.session() as session:
            session.execute(
                insert(Image),
                [
                    {
                        "id": i,
                        "split": "pool",
                        "relpath": f"synthetic/{i}.png",
                        "width": 24,
                        "height": 24,
                        "size_bytes": 0,
                        "mtime_ns": 0,
                        "fingerprint": "",
                    }
                    for i in range(start, stop)
                ],
            )
        for version in (a, b):
            for batch in range(start, stop, 256):
                ids = torch.arange(batch, min(batch + 256, stop))
                logits = torch.from_numpy(rng.normal(0, 4, (len(ids), CLASSES)).astype(np.float32))
                with ws.session() as session:
                    session.execute(
                        insert(MadScore), score_rows(version, logits, ids, None, CLASSES)
                    )
        written = stop - first
        if written in checkpoints:
            _, write_peak = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            started = time.perf_counter()
            with ws.session() as session:
                lead_a, _ = select_pair(session, a, b, MadSettings(), distance)
            took = time.perf_counter() - started
            _, select_peak = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            found.append((written * 2, write_peak, select_peak, took, len(lead_a)))
    tracemalloc.stop()
    with ws.session() as session:
        session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        pages = session.execute(
            text("SELECT SUM(pgsize) FROM dbstat WHERE name LIKE '%mad_scores%'")
        )
        stored = pages.scalar() or 0
    ws.close()
    per_row = stored / max(1, images * 2)
    return [
        [f"{n:,}", f"{w / 2**20:.1f}", f"{s / 2**20:.1f}", f"{t:.2f}", picked, f"{per_row:.0f}"]
        for n, w, s, t, picked in found
    ]


def _mean_ci(values: list[float]) -> str:
    values = [v for v in values if v == v]
    if len(values) < 2:
        return f"{100 * values[0]:+.1f}" if values else "n/a"
    mean = statistics.mean(values)
    half = stats.t.ppf(0.975, len(values) - 1) * statistics.stdev(values) / len(values) ** 0.5
    return f"{100 * mean:+.1f} ± {100 * half:.1f}"


def run(
    seeds: tuple[int, ...] = SEEDS,
    counts: dict[str, int] = COUNTS,
    epochs: int = EPOCHS,
    threshold: float = 0.8,
    stream_rows: int = STREAM_ROWS,
) -> str:
    root = OUTPUT / "mad"
    shutil.rmtree(root, ignore_errors=True)
    results = [_seed(root / f"seed{s}", s, counts, epochs, threshold) for s in seeds]
    parts = []
    mean = {
        k: statistics.mean(r["errors"][k] for r in results) for k in ("MAD", "random", "entropy")
    }
    budget = statistics.mean(r["budget"] for r in results)
    ratio = mean["MAD"] / max(mean["random"], 1e-9)
    parts.append(
        table(
            f"MAD: the target's error rate on {budget:.0f} pool images, mean of {len(seeds)} seeds",
            ["picked by", "error rate", "x random"],
            [[k, f"{v:.2f}", f"{v / max(mean['random'], 1e-9):.2f}"] for k, v in mean.items()],
        )
    )
    met = ratio >= 2 or (mean["random"] > 0.3 and mean["MAD"] >= 0.6)
    parts.append(f"target ≥ 2x random, or ≥ 0.6 when random > 0.3: {'met' if met else 'NOT met'}")
    rows = []
    for where in ("held-out slice", "fresh MAD test set"):
        for k in (1, 2):
            cells = [
                _mean_ci([r["gains"][(arm, k, where)] for r in results])
                for arm in ("MAD", "entropy")
            ]
            rows.append([where, k, *cells])
    parts.append(
        table(
            "MAD: accuracy gain of the target in points, mean ± 95 % interval over seeds",
            ["measured on", "rounds", "MAD", "entropy sampling"],
            rows,
        )
    )
    taus = [r["kendall"] for r in results]
    rhos = [r["spearman"] for r in results]
    parts.append(
        table(
            "MAD: ranking of 6 models against their accuracy on the labelled pool",
            ["seed", "Kendall τ", "Spearman", "pool accuracies"],
            [
                [
                    s,
                    f"{r['kendall']:.2f}",
                    f"{r['spearman']:.2f}",
                    " ".join(f"{a:.2f}" for a in r["accuracies"]),
                ]
                for s, r in zip(seeds, results, strict=True)
            ]
            + [["mean", f"{statistics.mean(taus):.2f}", f"{statistics.mean(rhos):.2f}", ""]],
        )
    )
    speeds = [r["throughput"] for r in results]
    product = statistics.mean(p for p, _ in speeds)
    bare = statistics.mean(b for _, b in speeds)
    parts.append(
        table(
            "MAD: pool scoring throughput (images/s, best of 5)",
            ["path", "images/s", "x bare"],
            [
                ["bare PyTorch loop", f"{bare:.0f}", "1.00"],
                ["robustar scoring", f"{product:.0f}", f"{product / bare:.2f}"],
            ],
        )
    )
    parts.append(
        table(
            f"MAD: {stream_rows:,} synthetic score rows streamed through storage and selection",
            ["rows stored", "write peak MiB", "select peak MiB", "select s", "picked", "bytes/row"],
            _stream(root / "stream", stream_rows),
        )
    )
    return "\n\n".join(parts)
