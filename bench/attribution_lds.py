"""Linear datamodeling score (LDS, Park et al. 2023) of Robustar's attribution methods next to
dattri's TRAK and TracIn, on a small subset problem and in the same run.

The problem: a 1,000-image spurious-digits training set, the demo's small CNN trained with the
demo's recipe. Ground truth: 32 models retrained with that recipe on random halves of the
training set, and the margin log(p / (1 - p)) of each of 50 test images under each. A method's
LDS is the Spearman correlation, across the 32 halves, between the sum of its scores over the
half and the margin, averaged over the test images. dattri's `lds` computes it for every method.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file

from bench import dattri_baselines
from bench.common import OUTPUT, table
from robustar.data.spurious_digits import DemoSpec
from robustar.demo import BASELINE, create_demo
from robustar.models.registry import create_model
from robustar.predict.engine import make_loader
from robustar.train.options import TrainOptions
from robustar.train.paired import plain_loss
from robustar.train.plain import Loaders, seed_everything, train_epochs
from robustar.workspace import Workspace

# damping: a better-conditioned influence-cg solve, which converges in a few iterations
SMOKE = {"train": 60, "tests": 4, "subsets": 3, "dim": 32, "damping": 1.0, "epochs": 3}


def tensors(workspace: Workspace, split: str, count: int) -> tuple[torch.Tensor, torch.Tensor]:
    dataset = workspace.dataset(split)
    items = [dataset[i] for i in range(count)]
    return torch.stack([x for x, _, _ in items]), torch.tensor([y for _, y, _ in items])


def margins(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        log_p = model.eval()(x).log_softmax(1)
    own = log_p.gather(1, y[:, None])[:, 0]
    return own - torch.log1p(-own.exp().clamp(max=1 - 1e-7))


def ground_truth(
    workspace: Workspace,
    test: tuple[torch.Tensor, torch.Tensor],
    subsets: int,
    recipe: TrainOptions,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Margins of the test images under models retrained on random halves (dattri's layout)."""
    dataset = workspace.dataset("train")
    train = len(dataset)
    rng = np.random.default_rng(0)
    halves = np.stack([np.sort(rng.permutation(train)[: train // 2]) for _ in range(subsets)])
    values = []
    for k, half in enumerate(halves):
        generator = seed_everything(k)
        subset = torch.utils.data.Subset(dataset, half.tolist())
        loader = make_loader(subset, recipe.batch_size, 0, torch.device("cpu"), True, generator)
        model = create_model(workspace.config.model.architecture, len(workspace.classes))
        with tempfile.TemporaryDirectory() as run_dir:
            train_epochs(
                model,
                Loaders(loader),
                recipe,
                torch.device("cpu"),
                Path(run_dir),
                plain_loss,
                generator,
            )
        values.append(margins(model, *test))
    return torch.stack(values), torch.from_numpy(halves)


def lds(scores: torch.Tensor, truth: tuple[torch.Tensor, torch.Tensor]) -> float:
    """Mean LDS over the test images; `scores` is (tests, training images)."""
    from dattri.metric import lds as dattri_lds

    correlations = dattri_lds(scores.T.float(), truth)[0]
    return float(np.nanmean(correlations.numpy()))


def run(
    train: int = 1000,
    tests: int = 50,
    subsets: int = 32,
    dim: int = 512,
    damping: float = 1e-3,
    epochs: int = BASELINE.epochs,
) -> str:
    """`epochs` of the demo's recipe for the model and the retrained halves (3 or more: the
    ensembles use the last 3 epochs)."""
    root = OUTPUT / "attribution-lds"
    shutil.rmtree(root, ignore_errors=True)
    spec = DemoSpec(counts=(("train", train), ("validation", train // 10), ("test", 4 * tests)))
    recipe = BASELINE.model_copy(update={"epochs": epochs})
    workspace = create_demo(root, spec, train=False)
    workspace.train(recipe)
    test = tensors(workspace, "test", tests)
    test_ids = [i.id for i in workspace.images("test", sort="id", limit=tests)]
    started = time.perf_counter()
    truth = ground_truth(workspace, test, subsets, recipe)
    truth_seconds = time.perf_counter() - started
    rows = []
    version = workspace.model()
    runs = [
        ("trak", {}),
        ("trak", {"ensemble": 3}),
        ("influence-cg", {"damping": damping}),
        ("influence", {}),
        ("tracin", {}),
        ("cosine", {}),
    ]
    for method, options in runs:
        started = time.perf_counter()
        workspace.attribution.build(method, dim=dim, fresh=True, **options)
        index = workspace.attribution.index(method, version.id)
        scores = torch.from_numpy(index.scores(index.test_features(test_ids)))
        seconds = time.perf_counter() - started
        label = f"Robustar {method}" + (
            f", ensemble {options['ensemble']}" if "ensemble" in options else ""
        )
        rows.append([label, f"{lds(scores, truth):.3f}", f"{seconds:.1f}"])
    train_tensors = tensors(workspace, "train", train)
    folder = (workspace.root / version.checkpoint).parent
    curves = workspace.training_curves(version.id)
    saved = [load_file(folder / f"epoch-{e.epoch:03d}.safetensors") for e in curves]
    model = workspace.load_model()
    for label, members in (("dattri TRAK", saved[-1:]), ("dattri TRAK, ensemble 3", saved[-3:])):
        started = time.perf_counter()
        attributor = dattri_baselines.trak(model, members, train_tensors, dim)
        scores = dattri_baselines.trak_scores(attributor, test)
        rows.append([label, f"{lds(scores, truth):.3f}", f"{time.perf_counter() - started:.1f}"])
    started = time.perf_counter()
    rates = [e.learning_rate for e in curves]
    scores = dattri_baselines.tracin_scores(model, saved, rates, train_tensors, test, dim)
    seconds = time.perf_counter() - started
    rows.append(["dattri TracIn", f"{lds(scores, truth):.3f}", f"{seconds:.1f}"])
    workspace.close()
    return table(
        f"LDS on {train} training images, {tests} test images, {subsets} retrained halves "
        f"({truth_seconds:.0f} s), projection dimension {dim} (target: Robustar trak >= dattri "
        "TRAK)",
        ["method", "LDS", "seconds"],
        rows,
    )


if __name__ == "__main__":
    print(run())
