"""The segmentation foundation end to end on a tiny generated problem: label maps → dataset →
small_unet trained with the Dice + CE loss → mIoU → MAD selection on the pool against a
second, different model, and the entropy baseline at the same budget."""

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader

from robustar.config import ImageConfig
from robustar.data.labelmaps import LabelClasses, LabelledImage, pair_folder
from robustar.data.problems import generate_segmentation
from robustar.data.segdataset import LabelMapDataset
from robustar.discover.mad.segmentation import (
    candidate_union,
    class_shares,
    entropy_select,
    mean_pixel_entropy,
    select_candidates,
    share_ranges,
    summarise,
)
from robustar.models.registry import create_model
from robustar.predict.segmetrics import SegMetrics
from robustar.train.segloss import segmentation_loss

IMAGE = ImageConfig(size=32, resize="stretch", mean=[0.5] * 3, std=[0.25] * 3)


def _train(
    name: str, data: LabelMapDataset, epochs: int, seed: int
) -> tuple[torch.nn.Module, list[float]]:
    """A plain loop (the job system's training comes later); the losses of each step."""
    torch.manual_seed(seed)
    model = create_model(name, 3, task="segmentation")
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
    loader = DataLoader(data, batch_size=12, shuffle=True)
    model.train()
    losses = []
    for _ in range(epochs):
        for images, labels, _ in loader:
            loss = segmentation_loss("ce+dice", model(images), labels)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            losses.append(float(loss.detach()))
    return model.eval(), losses


@torch.inference_mode()
def _logits(model: torch.nn.Module, data: LabelMapDataset) -> tuple[torch.Tensor, torch.Tensor]:
    images, labels, _ = next(iter(DataLoader(data, batch_size=len(data))))
    return model(images), labels


def test_generate_train_score_and_select(tmp_path: Path) -> None:
    counts = {"train": 24, "validation": 0, "test": 6, "pool": 12}
    problem = generate_segmentation(tmp_path / "p", seed=1, size=32, classes=3, counts=counts)
    classes = problem.label_classes()
    train = LabelMapDataset(pair_folder(problem.folder("train")), classes, IMAGE)
    test = LabelMapDataset(pair_folder(problem.folder("test")), classes, IMAGE)
    pool_images = sorted((problem.folder("pool") / "images").iterdir())
    pool = LabelMapDataset(pool_images, classes, IMAGE)

    torch.manual_seed(2)
    untrained = create_model("small_unet", 3, task="segmentation").eval()
    target, losses = _train("small_unet", train, epochs=2, seed=0)
    assert losses[-1] < losses[0]
    metrics = {}
    for name, model in (("untrained", untrained), ("target", target)):
        scores = SegMetrics(3)
        logits, labels = _logits(model, test)
        scores.update(logits, labels, image_ids=range(len(test)))
        metrics[name] = scores.result()
    assert len(scores.images) == counts["test"]
    # two epochs learn the background at least (about 95% of the pixels)
    assert metrics["target"].pixel_accuracy > max(0.9, metrics["untrained"].pixel_accuracy)
    assert metrics["target"].iou[0] > 0.9 and 0 < metrics["target"].miou < 1

    # MAD between the target and a competitor of another architecture and seed
    competitor, _ = _train("tiny_unet", train, epochs=1, seed=1)
    ranges = share_ranges(
        (class_shares(labels, 3) for _, labels, _ in train), 3
    )  # streamed from the training label maps
    assert set(ranges) == {0, 1, 2}
    target_logits, _ = _logits(target, pool)
    competitor_logits, _ = _logits(competitor, pool)
    ids = list(range(len(pool)))
    summaries = summarise(ids, target_logits, competitor_logits, 3)
    chosen = select_candidates({2: iter(summaries)}, ranges, per_class=3)
    union = candidate_union(chosen)
    assert union and len(union) <= 2 * 2 * 3  # roles x object classes x n3
    assert {c.led_by for c in chosen} <= {"target", "competitor"}
    for c in chosen:  # each pick lies in its partition's share range
        shares = summaries[c.image_id]
        share = shares.target_shares if c.led_by == "target" else shares.competitor_shares
        assert ranges[c.class_index][0] <= share[c.class_index] <= ranges[c.class_index][1]
    entropy = mean_pixel_entropy(target_logits)
    baseline = entropy_select(zip(ids, entropy.tolist(), strict=True), budget=len(union))
    assert len(baseline) == len(union)


def test_dataset_resizes_label_maps_without_blending(tmp_path: Path) -> None:
    classes = LabelClasses.of(["background", "a", "b"])
    (tmp_path / "images").mkdir()
    Image.new("RGB", (8, 4)).save(tmp_path / "images" / "x.png")
    labels = np.zeros((4, 8), np.uint8)
    labels[:, 4:] = 2
    labels[0, 0] = 255
    path = tmp_path / "labels" / "x.png"
    path.parent.mkdir()
    Image.fromarray(labels).save(path)
    pad = LabelMapDataset([LabelledImage(tmp_path / "images" / "x.png", path)], classes,
                          ImageConfig(size=16, resize="pad"))  # fmt: skip
    image, got, _ = pad[0]
    assert image.shape == (3, 16, 16) and got.dtype == torch.int64
    assert set(got.unique().tolist()) == {0, 2, 255}
    assert (got[:4] == 255).all() and (got[12:] == 255).all()  # the padding is ignored
    assert got[4, 0] == 255 and got[8, 0] == 0 and got[8, 15] == 2
    pool = LabelMapDataset([tmp_path / "images" / "x.png"], classes, ImageConfig(size=16))
    assert (pool[0][1] == 255).all()


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    """One thread: on a small, busy machine torch's threads wait on each other (10x slower)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
