"""The repair benchmarks' shared harness: a generated problem in memory, and one training run.

Every run uses the product's training loop (`train_epochs`) and objectives (`plain_loss`,
`PairedLoss`) on the product's decoded images; only the decoding happens once, up front, so
that a sweep of hundreds of runs spends its time training. Accuracy is out of domain (the
problem's `ood` split, shortcut random) after the last epoch.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch.utils.data import TensorDataset

from bench.common import OUTPUT
from robustar import Workspace
from robustar.data.problems import Problem, generate
from robustar.models.registry import create_model
from robustar.predict.engine import make_loader
from robustar.repair import reliance_figures
from robustar.train.fillers import Pixels
from robustar.train.options import TrainOptions
from robustar.train.paired import PairedLoss, plain_loss
from robustar.train.plain import Loaders, evaluate, seed_everything, train_epochs
from robustar.train.search import CRITERION_FILLERS

# Fewer than the generator's defaults: the sweep trains hundreds of models on 2 cores.
COUNTS = {
    "train": 800,
    "validation": 200,
    "test": 0,
    "ood": 400,
    "reference-train": 800,
    "reference-validation": 200,
}
CPU = torch.device("cpu")


@dataclass
class Split:
    images: torch.Tensor  # normalised (N, 3, H, W)
    labels: torch.Tensor


@dataclass
class Loaded:
    """One generated problem, decoded: the splits, the true training masks, the pixel scale."""

    problem: Problem
    train: Split
    masks: torch.Tensor  # (N, 1, H, W) in {0, 1}, the true spurious mask of every train image
    validation_masks: torch.Tensor  # the same for validation (the search criterion's masks)
    validation: Split
    ood: Split
    reference_train: Split
    reference_validation: Split
    pixels: Pixels

    @property
    def classes(self) -> int:
        return len(self.problem.classes)

    def mask_share(self, share: float, seed: int, validation: bool = False) -> torch.Tensor:
        """The true masks of a random `share` of the training (or validation) images, zeros
        elsewhere: what a user who annotated that share has."""
        masks = self.validation_masks if validation else self.masks
        chosen = np.random.default_rng(seed).permutation(len(masks))[: round(share * len(masks))]
        keep = torch.zeros(len(masks), dtype=torch.bool)
        keep[torch.from_numpy(chosen)] = True
        return masks * keep.view(-1, 1, 1, 1)


def _split(workspace: Workspace, split: str, problem: Problem) -> tuple[Split, torch.Tensor]:
    dataset = workspace.dataset(split)
    images, labels, masks = [], [], []
    for index in range(len(dataset)):
        image, label, image_id = dataset[index]
        images.append(image)
        labels.append(label)
        truth = np.asarray(Image.open(problem.mask(workspace.image_path(image_id)))) > 0
        masks.append(torch.from_numpy(truth).float()[None])
    return Split(torch.stack(images), torch.tensor(labels)), torch.stack(masks)


def load(kind: str, seed: int = 0, counts: dict[str, int] = COUNTS) -> Loaded:
    """Generate problem `kind` (data seed `seed`) under bench-output/suite/ and decode it."""
    root = OUTPUT / "suite" / f"{kind}-{seed}"
    shutil.rmtree(root, ignore_errors=True)
    problem = generate(kind, root / "problem", seed=seed, counts=counts)
    splits: dict[str, Split] = {}
    masks: dict[str, torch.Tensor] = {}
    for reference in (False, True):
        config = problem.config(reference=reference, test="ood")
        workspace = Workspace.create(root / f"workspace-{int(reference)}", config)
        prefix = "reference_" if reference else ""
        for split in ("train", "validation"):
            splits[prefix + split], masks[prefix + split] = _split(workspace, split, problem)
        if not reference:
            splits["ood"] = _split(workspace, "test", problem)[0]
        workspace.close()
    image = problem.config().image
    pixels = Pixels(image.mean, image.std, CPU)
    return Loaded(
        problem, masks=masks["train"], validation_masks=masks["validation"], pixels=pixels, **splits
    )


@dataclass(frozen=True)
class Result:
    ood: float
    validation: float
    seconds: float
    filled: float | None = None  # the repair search's criterion on the validation masks
    consistency: float | None = None


def criterion(
    data: Loaded, model: torch.nn.Module, masks: torch.Tensor
) -> tuple[float | None, float | None]:
    """The repair search's figures on the annotated validation images (`masks` non-empty)."""
    rows = masks.flatten(1).amax(1) > 0.5
    if not rows.any():
        return None, None
    annotated = TensorDataset(
        data.validation.images[rows], data.validation.labels[rows], masks[rows]
    )
    loader = make_loader(annotated, 256, 0, CPU)
    return reliance_figures(model.eval(), loader, data.pixels, CRITERION_FILLERS, 0, CPU)


def train(
    data: Loaded,
    options: TrainOptions,
    masks: torch.Tensor | None = None,
    parent: dict[str, torch.Tensor] | None = None,
    reference: bool = False,
) -> tuple[Result, dict[str, torch.Tensor]]:
    """One run of the product's loop; `parent` is the state that init='current' starts from."""
    generator = seed_everything(options.seed)
    model = create_model("small_cnn", data.classes)
    if options.init == "current":
        assert parent is not None, "init='current' needs the parent's weights"
        model.load_state_dict(parent)
    train_split = data.reference_train if reference else data.train
    validation = data.reference_validation if reference else data.validation
    fields = [train_split.images, train_split.labels, torch.arange(len(train_split.labels))]
    objective = plain_loss
    if options.paired:
        assert masks is not None, "paired training needs masks"
        fields.append(masks)
        objective = PairedLoss(
            options.filler,
            options.regularizer,
            options.pair_weight,
            data.pixels,
            generator,
            options.worst_of,
            options.borrow,
            options.copy_loss,
        )
    batch = options.batch_size or 64
    loaders = Loaders(
        make_loader(TensorDataset(*fields), batch, 0, CPU, True, generator),
        validation=make_loader(TensorDataset(validation.images, validation.labels), 256, 0, CPU),
        test=None,
    )
    with tempfile.TemporaryDirectory() as run_dir:
        results = train_epochs(model, loaders, options, CPU, Path(run_dir), objective, generator)
    ood = make_loader(TensorDataset(data.ood.images, data.ood.labels), 256, 0, CPU)
    seconds = sum(r.seconds for r in results)
    figures = (None, None)
    if options.paired and masks is not None:
        share = float((masks.flatten(1).amax(1) > 0.5).float().mean())
        figures = criterion(data, model, data.mask_share(share, options.seed, validation=True))
    result = Result(
        evaluate(model, ood, CPU)[1], results[-1].val_accuracy or 0.0, seconds, *figures
    )
    return result, model.state_dict()


def naive(data: Loaded, masks: torch.Tensor, epochs: int, seed: int) -> Result:
    """The issue's plain-PyTorch baseline: uniform noise in the masks, CE(x) + 1.0 * the
    squared L2 distance of the logits of x and x' on the masked images, from scratch, Adam
    at 1e-3, constant rate; the same network and epochs as the product's run."""
    torch.manual_seed(seed)
    model = create_model("small_cnn", data.classes)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    fields = TensorDataset(data.train.images, data.train.labels, masks)
    loader = torch.utils.data.DataLoader(fields, batch_size=64, shuffle=True)
    for _ in range(epochs):
        model.train()
        for x, y, m in loader:
            noise = data.pixels.normalise(torch.rand_like(x))
            x2 = torch.where(m > 0.5, noise, x)
            logits, logits2 = model(x), model(x2)
            has = m.flatten(1).amax(1) > 0.5
            loss = F.cross_entropy(logits, y)
            if has.any():
                loss = loss + ((logits - logits2) ** 2).sum(1)[has].mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    ood = make_loader(TensorDataset(data.ood.images, data.ood.labels), 256, 0, CPU)
    validation = make_loader(
        TensorDataset(data.validation.images, data.validation.labels), 256, 0, CPU
    )
    return Result(evaluate(model, ood, CPU)[1], evaluate(model, validation, CPU)[1], 0.0)


def recovered(value: float, vanilla: float, clean: float) -> float:
    """The share of the vanilla-to-clean out-of-domain gap that a repair closes (NaN without
    a gap, as in smoke runs)."""
    gap = clean - vanilla
    return (value - vanilla) / gap if gap else float("nan")
