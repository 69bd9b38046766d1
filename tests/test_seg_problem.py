from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from robustar.data.labelmaps import pair_folder, read_label_map, read_pair
from robustar.data.problems import SegProblem, generate_segmentation
from robustar.errors import DataError

COUNTS = {"train": 12, "validation": 3, "test": 3, "pool": 40}


def test_splits_labels_and_pool_truth(tmp_path: Path) -> None:
    problem = generate_segmentation(tmp_path / "p", seed=3, size=32, classes=3, counts=COUNTS)
    assert problem.classes == ["background", "disc", "square"]
    assert SegProblem.load(tmp_path / "p") == problem
    classes = problem.label_classes()
    for split in ("train", "validation", "test"):
        pairs = pair_folder(problem.folder(split))
        assert len(pairs) == COUNTS[split]
        for pair in pairs:
            labels = read_pair(pair, classes)  # checked: size, palette colours, indices
            assert labels.shape == (32, 32) and labels.max() <= 2
    pool = problem.folder("pool")
    assert not (pool / "labels").exists()  # the pool is unlabelled for a workspace
    assert len(pair_folder(pool, require_labels=False)) == 0
    truth = sorted(problem.pool_truth().iterdir())
    assert len(truth) == COUNTS["pool"] == len(problem.pool_shifts())


def test_training_is_biased_and_the_pool_shifted(tmp_path: Path) -> None:
    problem = generate_segmentation(tmp_path / "p", seed=0, size=32, counts=COUNTS)
    classes = problem.label_classes()
    train = [read_pair(p, classes) for p in pair_folder(problem.folder("train"))]
    shifts = problem.pool_shifts()
    assert set(shifts.values()) == {"none", "large", "clutter", "background"}

    def share(labels: np.ndarray) -> float:
        return float((labels > 0).mean())

    large = [
        share(read_label_map(problem.pool_truth() / f"{stem}.png", classes))
        for stem, shift in shifts.items()
        if shift == "large"
    ]
    assert max(share(t) for t in train) < min(large)
    # training backgrounds are plain: little variation outside the objects
    image = np.asarray(Image.open(problem.folder("train") / "images" / "00000.png"), float)
    assert image[train[0] == 0].std(axis=0).max() < 10


def test_same_seed_same_files(tmp_path: Path) -> None:
    small = {"train": 2, "validation": 1, "test": 1, "pool": 3}
    a = generate_segmentation(tmp_path / "a", seed=5, size=32, counts=small)
    b = generate_segmentation(tmp_path / "b", seed=5, size=32, counts=small)
    files = sorted(p.relative_to(a.root) for p in a.root.rglob("*.png"))
    assert files == sorted(p.relative_to(b.root) for p in b.root.rglob("*.png"))
    assert all((a.root / f).read_bytes() == (b.root / f).read_bytes() for f in files)


def test_bad_options(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"size in 32\.\.64"):
        generate_segmentation(tmp_path / "p", size=16)
    with pytest.raises(DataError, match="unknown splits"):
        generate_segmentation(tmp_path / "p", counts={"ood": 3})
    generate_segmentation(tmp_path / "p", size=32, counts={k: 1 for k in COUNTS})
    with pytest.raises(DataError, match="already holds data"):
        generate_segmentation(tmp_path / "p", size=32)
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "problem.json").write_text('{"kind": "patch"}')
    with pytest.raises(DataError, match="'patch' classification problem"):
        SegProblem.load(tmp_path / "c")
