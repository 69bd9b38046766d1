from pathlib import Path

import numpy as np
from PIL import Image

from robustar import Workspace
from robustar.data.spurious_digits import PATCH_COLOURS, generate_demo

from .conftest import SMALL_DEMO


def patch_class(image: np.ndarray, mask: np.ndarray) -> int:
    colour = image[mask > 0][0]
    return int(np.argmin(np.abs(PATCH_COLOURS.astype(int) - colour.astype(int)).sum(1)))


def test_generator_is_deterministic(tmp_path: Path) -> None:
    generate_demo(tmp_path / "a", tmp_path / "ta", SMALL_DEMO)
    generate_demo(tmp_path / "b", tmp_path / "tb", SMALL_DEMO)
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.png"))
    assert len(files) == 360
    assert all(
        (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in files
    )


def test_patch_agrees_with_the_label_in_train_only(tmp_path: Path) -> None:
    generate_demo(tmp_path / "data", tmp_path / "truth", SMALL_DEMO)
    agreement = {}
    for split in ("train", "test"):
        hits = []
        for path in sorted((tmp_path / "data" / split).rglob("*.png")):
            rel = path.relative_to(tmp_path / "data")
            image = np.asarray(Image.open(path))
            mask = np.asarray(Image.open(tmp_path / "truth/masks" / rel))
            clean = np.asarray(Image.open(tmp_path / "truth/clean" / rel))
            assert image.shape == (32, 32, 3) and set(np.unique(mask)) == {0, 255}
            assert (mask > 0).sum() == 64
            # the clean copy differs from the image only inside the mask
            assert (image[mask == 0] == clean[mask == 0]).all()
            hits.append(patch_class(image, mask) == int(rel.parts[1]))
        agreement[split] = np.mean(hits)
    assert agreement["train"] > 0.9
    assert agreement["test"] < 0.3


def test_demo_workspace_never_indexes_the_truth(demo: Workspace) -> None:
    assert (demo.root / "truth/masks/train").is_dir()
    assert all(
        not str(folder).startswith(str(demo.root / "truth")) for folder in demo.folders.values()
    )
    assert set(demo.folders) == {"train", "validation", "test", "pool"}
    assert demo.count("pool") == 30 and demo.count("train") == 200


def test_shortcut_classes_leave_the_other_training_classes_bare(tmp_path: Path) -> None:
    from dataclasses import replace

    spec = replace(SMALL_DEMO, shortcut_classes=(0, 1))
    generate_demo(tmp_path / "data", tmp_path / "truth", spec)
    for split in ("train", "test"):
        for mask in (tmp_path / "truth/masks" / split).rglob("*.png"):
            patched = np.asarray(Image.open(mask)).any()
            assert patched == (split == "test" or int(mask.parent.name) in (0, 1)), mask
    bare = next((tmp_path / "truth/masks/train/5").glob("*.png"))
    rel = bare.relative_to(tmp_path / "truth/masks")
    image = np.asarray(Image.open(tmp_path / "data" / rel))
    assert (image == np.asarray(Image.open(tmp_path / "truth/clean" / rel))).all()
