"""Data attribution: featurisation throughput, query latency, and retrieval quality on the demo.

Baselines in the same run: per-sample gradients with plain autograd, one image at a time (for
featurisation), and random ordering (for quality).
"""

from __future__ import annotations

import shutil
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from bench.common import OUTPUT, table
from robustar.data.spurious_digits import PATCH_COLOURS
from robustar.demo import create_demo
from robustar.explain.attribution import AttributionIndex
from robustar.workspace import Workspace


def patch_class(workspace: Workspace, split: str, relpath: str) -> int:
    """The class whose colour the image's spurious patch has (from the demo's true masks)."""
    image = np.asarray(Image.open(workspace.folders[split] / relpath).convert("RGB"))
    mask = np.asarray(Image.open(workspace.root / "truth/masks" / split / relpath)) > 0
    colour = image[mask].mean(0)
    return int(np.argmin(np.abs(PATCH_COLOURS.astype(float) - colour).sum(1)))


def bare_gradients(workspace: Workspace, count: int) -> float:
    """Samples per second of the textbook loop: one backward pass per training image."""
    model = workspace.load_model().eval()
    dataset = workspace.dataset("train")
    started = time.perf_counter()
    for index in range(count):
        x, y, _ = dataset[index]
        model.zero_grad()
        F.cross_entropy(model(x[None]), torch.tensor([y])).backward()
        torch.cat([p.grad.flatten() for p in model.parameters()])
    return count / (time.perf_counter() - started)


def query_latency(rows: int = 50_000, dim: int = 1024, repeats: int = 30) -> tuple[float, float]:
    """p50 / p95 ms of one query against a rows x dim memory-mapped index (TRAK layout)."""
    folder = OUTPUT / "attribution-latency"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    features = np.memmap(folder / "features.f32", np.float32, "w+", shape=(rows, dim))
    features[:] = np.random.default_rng(0).standard_normal((rows, dim), dtype=np.float32)
    features.flush()
    inverse = np.eye(dim)
    test = np.random.default_rng(1).standard_normal((1, dim))
    index = np.memmap(folder / "features.f32", np.float32, "r", shape=(rows, dim))
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        left = (test @ inverse).astype(np.float32)
        scores = left @ index.T
        np.argpartition(scores[0], -8)[-8:]
        samples.append(time.perf_counter() - started)
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[int(0.95 * (len(ordered) - 1))] * 1000


def run() -> str:
    root = OUTPUT / "attribution-demo"
    shutil.rmtree(root, ignore_errors=True)
    workspace = create_demo(root)
    rows = []
    bare = bare_gradients(workspace, 300)
    rows.append(["per-sample gradients, plain autograd loop (baseline)", f"{bare:,.0f}", "1.00"])
    for method in ("influence", "trak", "cosine"):
        started = time.perf_counter()
        info = workspace.attribution.build(method, dim=1024, fresh=True)
        rate = info.images / (time.perf_counter() - started)
        rows.append([f"index build, {method}", f"{rate:,.0f}", f"{rate / bare:.2f}"])
    speed = table(
        "Attribution featurisation on the demo (3,000 training images, small_cnn, CPU)",
        ["run", "training samples/s", "vs baseline"],
        rows,
    )
    p50, p95 = query_latency()
    latency = table(
        "One query against a 50,000 x 1,024 memory-mapped index (target < 50 ms)",
        ["", "p50 ms", "p95 ms"],
        [["query (matrix product + top 8)", f"{p50:.1f}", f"{p95:.1f}"]],
    )
    # Quality: for each misclassified test image, how many of its 8 most opposing training
    # images belong to the wrongly predicted class and carry that class's patch colour.
    train = workspace.images("train")
    truth = {i.id: (i.label, patch_class(workspace, "train", i.relpath)) for i in train}
    wrong = workspace.images("test", correct=False, limit=100)
    quality = []
    for method in ("influence", "trak", "cosine"):
        index = AttributionIndex(workspace, workspace.model().id, method)
        hits = []
        for image in wrong:
            shortlist = workspace.attribution.query(image.id, 8, method)["harmful"]
            w = image.prediction.predicted
            hits.append(np.mean([truth[s.image_id] == (w, w) for s in shortlist]))
        assert index.info() is not None
        quality.append([method, f"{np.mean(hits):.3f}"])
    random_rate = np.mean(
        [np.mean([truth[i.id] == (img.prediction.predicted,) * 2 for i in train]) for img in wrong]
    )
    quality.append(["random ordering (baseline)", f"{random_rate:.3f}"])
    retrieval = table(
        f"Precision@8 of the most opposing training images for {len(wrong)} misclassified test "
        "images: share with the wrong class's label and patch colour (target >= 3x random)",
        ["method", "precision@8"],
        quality,
    )
    workspace.close()
    return "\n\n".join([speed, latency, retrieval])


if __name__ == "__main__":
    print(run())
