import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from robustar import Workspace
from robustar.annotations.assist import grabcut, superpixels
from robustar.errors import ConflictError, DataError, NotFoundError

# every test here runs on SQLite and on PostgreSQL (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("database_url")


def random_mask(ws: Workspace, image_id: int, seed: int = 0) -> np.ndarray:
    image = ws.image(image_id)
    return np.random.default_rng(seed).random((image.height, image.width)) > 0.5


def test_save_load_round_trip_and_versions(demo: Workspace) -> None:
    image_id = demo.images("train", limit=1)[0].id
    first = random_mask(demo, image_id, 1)
    saved = demo.masks.save(image_id, first)
    assert (saved.version, saved.pixels, saved.kind) == (1, int(first.sum()), "spurious")
    assert np.array_equal(demo.masks.get(image_id), first)
    second = random_mask(demo, image_id, 2)
    assert demo.masks.save(image_id, second, base_version=1).version == 2
    assert np.array_equal(demo.masks.get(image_id), second)
    assert np.array_equal(demo.masks.get(image_id, version=1), first)
    assert [v.version for v in demo.masks.history(image_id)] == [1, 2]
    assert [v.is_current for v in demo.masks.history(image_id)] == [False, True]
    restored = demo.masks.restore(image_id, 1, base_version=2)
    assert restored.version == 3 and np.array_equal(demo.masks.get(image_id), first)
    with pytest.raises(NotFoundError):
        demo.masks.get(image_id, kind="object")


def test_a_stale_save_conflicts_and_changes_nothing(demo: Workspace) -> None:
    image_id = demo.images("train", limit=1)[0].id
    demo.masks.save(image_id, random_mask(demo, image_id, 1))
    mine = random_mask(demo, image_id, 2)
    theirs = random_mask(demo, image_id, 3)
    demo.masks.save(image_id, theirs, base_version=1)
    with pytest.raises(ConflictError) as caught:
        demo.masks.save(image_id, mine, base_version=1)
    assert caught.value.current_version == 2
    with pytest.raises(ConflictError):
        demo.masks.save(image_id, mine, base_version=None)
    assert np.array_equal(demo.masks.get(image_id), theirs)
    assert demo.masks.save(image_id, mine, base_version=2).version == 3  # overwrite on purpose


@pytest.mark.parametrize(
    ("mask", "message"),
    [
        (np.zeros((8, 8), dtype=bool), "native size"),
        (np.full((32, 32), 7, dtype=np.uint8), "not binary"),
    ],
)
def test_bad_masks_are_refused(demo: Workspace, mask: np.ndarray, message: str) -> None:
    image_id = demo.images("train", limit=1)[0].id
    demo.masks.set(image_id, np.ones((32, 32), dtype=bool))
    with pytest.raises(DataError, match=message):
        demo.masks.set(image_id, mask)
    assert demo.masks.get(image_id).all()
    with pytest.raises(NotFoundError):
        demo.masks.set(123456, np.ones((32, 32), dtype=bool))


def test_annotated_filter_and_progress(demo: Workspace) -> None:
    images = demo.images("train", label="4", limit=4)
    demo.masks.set(images[0].id, np.ones((32, 32), dtype=bool))
    demo.masks.set(images[3].id, np.ones((32, 32), dtype=bool))
    demo.masks.set(images[1].id, np.zeros((32, 32), dtype=bool))  # cleared: not annotated
    demo.masks.set(images[2].id, np.ones((32, 32), dtype=bool), kind="object")
    assert [i.id for i in demo.images("train", annotated=True)] == [images[0].id, images[3].id]
    assert demo.count("train", annotated=False) == demo.count("train") - 2
    assert demo.count("train", annotated=True, mask_kind="object") == 1
    wrong_annotated = demo.count("train", annotated=True, correct=images[0].prediction.correct)
    assert wrong_annotated == 1 + (images[3].prediction.correct == images[0].prediction.correct)
    progress = demo.masks.progress()
    assert progress["train"]["4"] == (2, demo.count("train", label="4"))
    assert progress["test"]["4"][0] == 0


def test_png_and_coco_round_trips(demo: Workspace, tmp_path: Path) -> None:
    ids = [i.id for i in demo.images("test", limit=4)]
    masks = {i: random_mask(demo, i, i) for i in ids}
    for image_id, mask in masks.items():
        demo.masks.set(image_id, mask)
    assert demo.masks.export_to(tmp_path / "png", "png") == 4
    assert demo.masks.export_to(tmp_path / "coco.json", "coco") == 4
    for image_id in ids:
        demo.masks.set(image_id, np.zeros((32, 32), dtype=bool))
    assert demo.masks.import_from(tmp_path / "png", "png") == 4
    assert all(np.array_equal(demo.masks.get(i), masks[i]) for i in ids)
    assert demo.masks.import_from(tmp_path / "coco.json", "coco", kind="object") == 4
    assert all(np.array_equal(demo.masks.get(i, "object"), masks[i]) for i in ids)


def test_coco_polygons_from_other_tools(demo: Workspace, tmp_path: Path) -> None:
    image = demo.images("test", limit=1)[0]
    document = {
        "images": [{"id": 7, "file_name": image.relpath, "width": 32, "height": 32}],
        "categories": [{"id": 3, "name": "spurious"}],
        "annotations": [
            {"id": 1, "image_id": 7, "category_id": 3, "segmentation": [[0, 0, 8, 0, 8, 8, 0, 8]]}
        ],
    }
    (tmp_path / "ls.json").write_text(json.dumps(document))
    assert demo.masks.import_from(tmp_path / "ls.json", "coco") == 1
    mask = demo.masks.get(image.id)
    assert mask[2:6, 2:6].all() and not mask[12:, 12:].any()


def test_bad_imports_change_nothing(demo: Workspace, tmp_path: Path) -> None:
    image = demo.images("test", limit=1)[0]
    demo.masks.set(image.id, np.ones((32, 32), dtype=bool))
    document = {
        "images": [{"id": 1, "file_name": "test/9/nope.png", "width": 32, "height": 32}],
        "categories": [{"id": 1, "name": "spurious"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "segmentation": [[0, 0, 4, 0, 4, 4]]}
        ],
    }
    (tmp_path / "bad.json").write_text(json.dumps(document))
    with pytest.raises(DataError, match="matches no image"):
        demo.masks.import_from(tmp_path / "bad.json", "coco")
    folder = tmp_path / "png" / "test"
    (folder / Path(image.relpath).parent).mkdir(parents=True)
    Image.fromarray(np.zeros((32, 32), np.uint8)).save(folder / Path(image.relpath))
    Image.fromarray(np.zeros((5, 5), np.uint8)).save(folder / "extra.png")
    with pytest.raises(DataError, match=r"extra\.png"):
        demo.masks.import_from(tmp_path / "png", "png")
    (folder / "extra.png").unlink()
    (folder / Path(image.relpath)).write_bytes(b"\x89PNG broken")
    with pytest.raises(DataError, match="not a readable PNG"):
        demo.masks.import_from(tmp_path / "png", "png")
    assert demo.masks.get(image.id).all()
    assert demo.masks.current(image.id).version == 1


def test_superpixels_and_grabcut_follow_the_image() -> None:
    array = np.full((120, 160, 3), 20, dtype=np.uint8)
    array[40:80, 60:110] = (230, 200, 40)
    image = Image.fromarray(array)
    labels = superpixels(image, 50)
    assert labels.shape == (120, 160) and 10 < labels.max() + 1 <= 60
    inside = labels[45:75, 65:105]
    assert not np.isin(inside, labels[:30, :30]).any()  # no superpixel crosses the square edge
    mask = grabcut(image, (50, 30, 120, 90))
    truth = np.zeros((120, 160), dtype=bool)
    truth[40:80, 60:110] = True
    iou = (mask & truth).sum() / (mask | truth).sum()
    assert iou > 0.8
    with pytest.raises(DataError, match="box"):
        grabcut(image, (10, 10, 10, 50))


def test_an_upload_that_is_no_image_is_named_without_the_file_object() -> None:
    from robustar.annotations.maskfile import decode_mask

    with pytest.raises(DataError) as caught:
        decode_mask(b"hello, not an image", 8, 8, "the uploaded mask")
    assert caught.value.what == (
        "the uploaded mask is not a readable PNG: the format is not one Pillow recognises"
    )
