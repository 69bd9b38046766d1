"""The problem suite: every kind writes its layout, carries its shortcut in train and not
out of domain (measured from the written files), masks exactly its pixels, and is
deterministic; a workspace opens it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from robustar import Workspace
from robustar.data.problems import PROBLEMS, SPLITS, Problem, generate
from robustar.errors import DataError

COUNTS = {
    "train": 150,
    "validation": 20,
    "test": 20,
    "ood": 100,
    "reference-train": 100,
    "reference-validation": 10,
}


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Problem]:
    root = tmp_path_factory.mktemp("suite")
    return {kind: generate(kind, root / kind, seed=3, counts=COUNTS) for kind in PROBLEMS}


def read(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path))


def split_files(problem: Problem, split: str) -> list[Path]:
    return sorted(problem.folder(split).rglob("*.png"))


def shortcut_features(problem: Problem, split: str) -> tuple[np.ndarray, np.ndarray]:
    """What the masked pixels alone hold, independent of where the mask is: the normalised
    Fourier magnitude of the image inside its true mask, per channel."""
    rows, labels = [], []
    for path in split_files(problem, split):
        inside = read(path) * (read(problem.mask(path))[..., None] > 0)
        spectrum = np.abs(np.fft.fft2(inside.astype(np.float32), axes=(0, 1))).ravel()
        rows.append(spectrum / np.linalg.norm(spectrum))
        labels.append(int(path.parent.name))
    return np.array(rows), np.array(labels)


def test_every_kind_differs_in_size_and_classes(suite: dict[str, Problem]) -> None:
    assert len(suite) >= 4
    assert len({p.size for p in suite.values()}) == len(suite)
    assert len({len(p.classes) for p in suite.values()}) == len(suite)
    assert all(32 <= p.size <= 64 for p in suite.values())


@pytest.mark.parametrize("kind", PROBLEMS.names())
def test_layout(suite: dict[str, Problem], kind: str) -> None:
    problem = suite[kind]
    assert Problem.load(problem.root) == problem
    for split in SPLITS:
        files = split_files(problem, split)
        assert len(files) == COUNTS[split]
        assert {f.parent.name for f in files} <= set(problem.classes)
        for f in files[:3]:
            assert read(f).shape == (problem.size, problem.size, 3)
            assert read(problem.mask(f)).shape == (problem.size, problem.size)


@pytest.mark.parametrize("kind", PROBLEMS.names())
def test_shortcut_predicts_the_label_in_train_only(suite: dict[str, Problem], kind: str) -> None:
    """A nearest-centroid classifier on the masked pixels, fitted on train, names the label
    in train but is at chance out of domain and on the clean reference's training data."""
    problem = suite[kind]
    features, labels = shortcut_features(problem, "train")
    classes = np.unique(labels)
    centroids = np.array([features[labels == c].mean(0) for c in classes])

    def accuracy(split: str) -> float:
        x, y = shortcut_features(problem, split)
        guess = classes[np.argmax(x @ centroids.T, axis=1)]
        return float(np.mean(guess == y))

    chance = 1 / len(problem.classes)
    assert accuracy("train") > 0.85
    assert accuracy("ood") < chance + 0.15
    assert accuracy("reference-train") < chance + 0.15


@pytest.mark.parametrize("kind", PROBLEMS.names())
def test_masks_cover_exactly_the_shortcut(suite: dict[str, Problem], kind: str) -> None:
    problem = suite[kind]
    for path in split_files(problem, "train")[::30] + split_files(problem, "ood")[::30]:
        mask = read(problem.mask(path))
        assert set(np.unique(mask)) == {0, 255}
        changed = (read(path) != read(problem.clean(path))).any(axis=2)
        assert not changed[mask == 0].any()  # nothing outside the mask
        assert changed[mask > 0].mean() > 0.9  # (almost) every pixel inside it


def test_the_same_seed_writes_the_same_files(tmp_path: Path) -> None:
    few = {split: 12 for split in SPLITS}
    one, again, other = (
        snapshot(generate("stamp", tmp_path / name, seed=seed, counts=few).root)
        for name, seed in (("one", 3), ("again", 3), ("other", 4))
    )
    assert len(one) == 4 * sum(few.values()) + 1  # image, mask, clean copy, object mask
    assert one == again
    assert one != other


def snapshot(root: Path) -> dict[Path, bytes]:
    return {p.relative_to(root): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_anti_correlated_ood_never_carries_the_labels_shortcut(tmp_path: Path) -> None:
    problem = generate("patch", tmp_path / "p", ood="anti", counts={**COUNTS, "train": 60})
    from robustar.data.spurious_digits import PATCH_COLOURS

    for path in split_files(problem, "ood"):
        colour = read(path)[read(problem.mask(path)) > 0][0]
        assert (colour != PATCH_COLOURS[int(path.parent.name)]).any()


@pytest.mark.parametrize("kind", PROBLEMS.names())
def test_a_workspace_opens_each_problem(
    suite: dict[str, Problem], kind: str, tmp_path: Path
) -> None:
    problem = suite[kind]
    for reference in (False, True):
        root = tmp_path / f"ws-{reference}"
        Workspace.create(root, problem.config(reference=reference)).close()
        workspace = Workspace.open(root)
        prefix = "reference-" if reference else ""
        assert workspace.count("train") == COUNTS[f"{prefix}train"]
        assert workspace.count("test") == COUNTS["ood"]
        assert workspace.info().classes == problem.classes
        workspace.close()


def test_bad_requests_name_the_fix(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="unknown problem kind"):
        generate("nope", tmp_path / "a")
    with pytest.raises(DataError, match="invalid options"):
        generate("tint", tmp_path / "a", bogus=1)
    with pytest.raises(DataError, match="classes"):
        generate("tint", tmp_path / "a", classes=11)
    assert not (tmp_path / "a").exists()


def test_the_command_line_lists_and_makes_problems(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from .test_cli import run

    code, out, _ = run(monkeypatch, capsys, "problems", "list")
    assert code == 0 and all(kind in out for kind in PROBLEMS)
    counts = [a for split, n in COUNTS.items() for a in ("--count", f"{split}={n // 10 + 1}")]
    target = tmp_path / "p"
    code, out, _ = run(
        monkeypatch, capsys, "problems", "make", "tint", target, "-o", "classes=3", *counts, "-q"
    )
    assert code == 0 and "3 classes" in out
    moved = target.rename(tmp_path / "moved")  # the workspace's folders are relative
    workspace = Workspace.open(moved)
    assert workspace.info().classes == ["0", "1", "2"]
    workspace.close()
    target = moved
    code, _, err = run(monkeypatch, capsys, "problems", "make", "tint", target, "-q")
    assert code == 2 and "already holds data" in err and "fix:" in err


def test_scene_objects_sit_on_class_backgrounds_and_neutral_ones_out_of_domain(
    tmp_path: Path,
) -> None:
    few = {split: 14 for split in SPLITS}
    problem = generate("scene", tmp_path / "scene", counts=few, ood="neutral")
    for path in split_files(problem, "train")[:5]:
        digit = read(problem.object_mask(path)) > 0
        background = read(problem.mask(path)) > 0
        assert 0.05 < digit.mean() < 0.4
        assert not (digit & background).any()  # the object is never the shortcut
    for path in split_files(problem, "ood"):
        assert not read(problem.mask(path)).any()  # neutral: no shortcut
        assert (read(path) == read(problem.clean(path))).all()
