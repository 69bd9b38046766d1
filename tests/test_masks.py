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
