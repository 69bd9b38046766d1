"""Mask export and import, each format checked with the peer's own parser (pycocotools,
FiftyOne's COCO importer, label-studio-sdk), round trips pixel-exact, and the matching rules."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pycocotools.coco import COCO

from robustar import Workspace
from robustar.errors import DataError
from tests.peers import peer_python, run_peer


def shapes(seed: int) -> np.ndarray:
    """A 32x32 mask with what polygons find hard: a ring with an island in its hole, pixels
    touching only at corners, noise."""
    mask = np.zeros((32, 32), dtype=bool)
    mask[4:20, 4:20] = True
    mask[8:16, 8:16] = False
    mask[11:13, 11:13] = True
    mask[24, 24] = mask[25, 25] = True
    mask[22:, :12] = np.random.default_rng(seed).random((10, 12)) > 0.5
    return mask


@pytest.fixture
def masked(demo: Workspace) -> dict[int, np.ndarray]:
    """Four test images with masks of their own."""
    masks = {image.id: shapes(image.id) for image in demo.images("test", limit=4)}
    for image_id, mask in masks.items():
        demo.masks.set(image_id, mask)
    return masks


def clear(demo: Workspace, masks: dict[int, np.ndarray], kind: str = "spurious") -> None:
    for image_id in masks:
        demo.masks.set(image_id, np.zeros((32, 32), dtype=bool), kind)


def same(demo: Workspace, masks: dict[int, np.ndarray], kind: str = "spurious") -> bool:
    return all(np.array_equal(demo.masks.get(i, kind), m) for i, m in masks.items())


def test_png_folders_and_zips_hold_0_and_255(
    demo: Workspace, masked: dict[int, np.ndarray], tmp_path: Path
) -> None:
    assert demo.masks.export_to(tmp_path / "png", "png") == 4
    assert demo.masks.export_to(tmp_path / "masks.zip", "png") == 4
    for image_id, mask in masked.items():
        image = demo.image(image_id)
        path = tmp_path / "png" / "test" / Path(image.relpath).with_suffix(".png")
        with Image.open(path) as png:
            assert png.mode == "L"
            pixels = np.array(png)
        assert set(np.unique(pixels)) <= {0, 255}
        assert np.array_equal(pixels > 127, mask)  # what any reader does with it
    with zipfile.ZipFile(tmp_path / "masks.zip") as archive:
        assert len(archive.namelist()) == 4
    clear(demo, masked)
    report = demo.masks.import_from(tmp_path / "png", "png")
    assert (report.masks, report.matched, report.stored) == (4, 4, 4)
    assert same(demo, masked)
    clear(demo, masked, "object")
    assert demo.masks.import_from(tmp_path / "masks.zip", kind="object").stored == 4
    assert same(demo, masked, "object")
    again = demo.masks.import_from(tmp_path / "masks.zip", kind="object")
    assert (again.matched, again.stored) == (4, 0)  # nothing changed, no new versions


@pytest.mark.parametrize("format", ["coco", "coco-polygons"])
def test_coco_exports_read_by_pycocotools(
    demo: Workspace, masked: dict[int, np.ndarray], tmp_path: Path, format: str
) -> None:
    out = tmp_path / "masks.json"
    assert demo.masks.export_to(out, format) == 4
    coco = COCO(str(out))
    assert [c["name"] for c in coco.loadCats(coco.getCatIds())] == ["spurious"]
    for image_id, mask in masked.items():
        (annotation,) = coco.loadAnns(coco.getAnnIds(imgIds=image_id))
        polygons = isinstance(annotation["segmentation"], list)
        assert polygons == (format == "coco-polygons")
        assert np.array_equal(coco.annToMask(annotation).astype(bool), mask)
        entry = coco.loadImgs(image_id)[0]
        assert entry["file_name"] == f"test/{demo.image(image_id).relpath}"
    clear(demo, masked)
    assert demo.masks.import_from(out, "coco").stored == 4
    assert same(demo, masked)


FO_DECODE = """
import json, sys
from fiftyone.core.odm import database
from fiftyone.utils.coco import COCODetectionDatasetImporter
importer = COCODetectionDatasetImporter(label_types=["segmentations"], **json.load(sys.stdin))
out = []
with importer:
    for image_path, metadata, detections in importer:
        size = (metadata.width, metadata.height)
        rendered = detections.to_segmentation(frame_size=size, mask_targets={1: "spurious"})
        out.append({"image": image_path, "mask": (rendered.mask == 1).tolist()})
assert database._client is None, "the importer connected to FiftyOne's database"
print(json.dumps(out))
"""


@pytest.mark.parametrize("format", ["coco", "coco-polygons"])
def test_coco_exports_read_by_fiftyone_importer(
    demo: Workspace, masked: dict[int, np.ndarray], tmp_path: Path, format: str
) -> None:
    """FiftyOne's own COCO importer (what `fo.Dataset.from_dir` with COCODetectionDataset runs,
    iterated without the database) finds every image under the image root and its Detections'
    masks, cropped to their boxes, render back to ours."""
    python = peer_python("fiftyone")
    root = demo.folders["test"].parent.parent
    out = tmp_path / "masks.json"
    assert demo.masks.export_to(out, format, image_root=str(root)) == 4
    decoded = run_peer(python, FO_DECODE, {"data_path": str(root), "labels_path": str(out)})
    by_path = {str(demo.folders["test"] / demo.image(i).relpath): m for i, m in masked.items()}
    assert sorted(item["image"] for item in decoded) == sorted(by_path)
    for item in decoded:
        assert np.array_equal(np.array(item["mask"]), by_path[item["image"]])


LS_DECODE = """
import json, sys
import numpy as np
from label_studio_sdk.converter.brush import decode_from_annotation
tasks = json.load(sys.stdin)
out = []
for task in tasks:
    results = [{**r, **r["value"]} for r in task["annotations"][0]["result"]]
    layers = decode_from_annotation("tag", results)
    ((name, alpha),) = layers.items()
    out.append({"image": task["data"]["image"], "layer": name, "mask": (alpha > 0).tolist()})
print(json.dumps(out))
"""

LS_ENCODE = """
import json, sys
import numpy as np
from label_studio_sdk.converter.brush import mask2rle
items = json.load(sys.stdin)
tasks = []
for item in items:
    mask = np.array(item["mask"], dtype=np.uint8) * 255
    result = {"type": "brushlabels", "from_name": "tag", "to_name": "image",
              "original_width": mask.shape[1], "original_height": mask.shape[0],
              "value": {"format": "rle", "rle": mask2rle(mask), "brushlabels": ["shortcut"]}}
    tasks.append({"id": len(tasks) + 1, "data": {"image": item["image"]},
                  "annotations": [{"id": 1, "result": [result], "was_cancelled": False}]})
print(json.dumps(tasks))
"""


def test_label_studio_brush_tasks_with_label_studio_sdk(
    demo: Workspace, masked: dict[int, np.ndarray], tmp_path: Path
) -> None:
    """Both directions through label_studio_sdk.converter.brush: decode_from_annotation (what
    its converter runs on an export) reads ours; ours reads mask2rle's."""
    python = peer_python("label-studio-sdk")
    out = tmp_path / "tasks.json"
    prefix = "/data/local-files/?d="
    assert demo.masks.export_to(out, "labelstudio", name_prefix=prefix) == 4
    decoded = run_peer(python, LS_DECODE, json.loads(out.read_text()))
    by_name = {f"{prefix}test/{demo.image(i).relpath}": m for i, m in masked.items()}
    for item in decoded:
        assert item["layer"] == "tag-spurious-0"
        assert np.array_equal(np.array(item["mask"]), by_name[item["image"]])
    clear(demo, masked)
    assert demo.masks.import_from(out, "labelstudio").stored == 4  # ?d= names the path
    assert same(demo, masked)

    # Label Studio renames uploads <8 hex>-<name>: matched by stem with the split given
    items = [
        {"image": f"/data/upload/3/0a1b2c3d-{Path(demo.image(i).relpath).name}", "mask": m.tolist()}
        for i, m in masked.items()
    ]
    (tmp_path / "peer.json").write_text(json.dumps(run_peer(python, LS_ENCODE, items)))
    clear(demo, masked)
    with pytest.raises(DataError, match=r"no brush label 'spurious' \(it has: shortcut\)"):
        demo.masks.import_from(tmp_path / "peer.json", "labelstudio")
    report = demo.masks.import_from(
        tmp_path / "peer.json", "labelstudio", category="shortcut", match="stem", split="test"
    )
    assert report.stored == 4 and same(demo, masked)


def test_image_names_relative_to_a_root_or_absolute(
    demo: Workspace, masked: dict[int, np.ndarray], tmp_path: Path
) -> None:
    test_folder = demo.folders["test"]
    root = test_folder.parent.parent  # names then differ from <split>/<path>
    demo.masks.export_to(tmp_path / "rooted.json", "coco", image_root=str(root))
    demo.masks.export_to(tmp_path / "absolute.json", "coco", absolute_paths=True)
    rooted = json.loads((tmp_path / "rooted.json").read_text())["images"]
    absolute = json.loads((tmp_path / "absolute.json").read_text())["images"]
    for entry in rooted:  # what FiftyOne's data_path / CVAT's image root would join
        assert (root / entry["file_name"]).is_file()
    for entry in absolute:
        assert Path(entry["file_name"]).is_absolute() and Path(entry["file_name"]).is_file()
    clear(demo, masked)
    assert demo.masks.import_from(tmp_path / "absolute.json", "coco").stored == 4
    clear(demo, masked)
    with pytest.raises(DataError, match="4 match no image"):
        demo.masks.import_from(tmp_path / "rooted.json", "coco")
    assert demo.masks.import_from(tmp_path / "rooted.json", "coco", image_root=str(root)).stored
    assert same(demo, masked)
    with pytest.raises(DataError, match="outside the image root"):
        demo.masks.export_to(tmp_path / "x.json", "coco", image_root=str(demo.folders["train"]))


def write_png(path: Path, mask: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.where(mask, 255, 0).astype(np.uint8)).save(path)


def test_png_names_match_by_path_in_a_split_or_by_stem(demo: Workspace, tmp_path: Path) -> None:
    images = demo.images("test", limit=3)
    mask = shapes(0)
    for image in images[:2]:  # <image path>.png, without the split
        write_png(tmp_path / "in_split" / Path(image.relpath).with_suffix(".png"), mask)
    with pytest.raises(DataError, match="2 match no image"):
        demo.masks.import_from(tmp_path / "in_split")
    assert demo.masks.import_from(tmp_path / "in_split", split="test").stored == 2
    # by stem, any folder: one flat folder of <stem>.png
    write_png(tmp_path / "flat" / f"{Path(images[2].relpath).stem}.png", ~mask)
    write_png(tmp_path / "flat" / "nothing_like_it.png", mask)
    with pytest.raises(DataError, match=r"1 match no image: nothing_like_it\.png"):
        demo.masks.import_from(tmp_path / "flat", match="stem", split="test")
    assert not demo.masks.current(images[2].id)  # nothing stored
    report = demo.masks.import_from(
        tmp_path / "flat", match="stem", split="test", skip_unmatched=True
    )
    assert (report.stored, report.unmatched) == (1, ["nothing_like_it.png"])
    assert np.array_equal(demo.masks.get(images[2].id), ~mask)


def test_ambiguous_names_and_a_dry_run_report(demo: Workspace, tmp_path: Path) -> None:
    stems = {}
    for image in (i for split in demo.folders for i in demo.images(split, limit=1000)):
        stems.setdefault(Path(image.relpath).stem, []).append(image)
    shared = next(s for s, found in stems.items() if len(found) > 1)  # in several splits
    unique = next(found[0] for found in stems.values() if len(found) == 1)
    demo.masks.set(unique.id, shapes(1))
    write_png(tmp_path / "m" / f"{shared}.png", shapes(0))
    write_png(tmp_path / "m" / f"{Path(unique.relpath).stem}.png", shapes(1))  # unchanged
    write_png(tmp_path / "m" / "x" / "unknown.png", shapes(0))
    report = demo.masks.import_from(tmp_path / "m", match="stem", dry_run=True)
    assert report.dry_run and (report.masks, report.matched, report.would_change) == (3, 1, 0)
    assert report.unmatched == ["x/unknown.png"]
    assert len(report.ambiguous[f"{shared}.png"]) == len(stems[shared])
    with pytest.raises(DataError, match=rf"1 match several images: {shared}\.png \("):
        demo.masks.import_from(tmp_path / "m", match="stem")
    assert demo.masks.current(unique.id).version == 1


def test_coco_categories_are_chosen_never_merged(demo: Workspace, tmp_path: Path) -> None:
    image = demo.images("test", limit=1)[0]
    square = [0, 0, 8, 0, 8, 8, 0, 8]
    document = {
        "images": [{"id": 7, "file_name": f"test/{image.relpath}", "width": 32, "height": 32}],
        "categories": [{"id": 3, "name": "cat"}, {"id": 4, "name": "dog"}],
        "annotations": [
            {"id": 1, "image_id": 7, "category_id": 3, "segmentation": [square]},
            {"id": 2, "image_id": 7, "category_id": 4, "segmentation": [[20, 20, 30, 20, 30, 30]]},
        ],
    }
    (tmp_path / "cvat.json").write_text(json.dumps(document))
    with pytest.raises(DataError, match=r"no category 'spurious' \(it has: cat, dog\)"):
        demo.masks.import_from(tmp_path / "cvat.json", "coco")
    assert demo.masks.current(image.id) is None
    assert demo.masks.import_from(tmp_path / "cvat.json", "coco", category="cat").stored == 1
    mask = demo.masks.get(image.id)
    assert mask[:8, :8].all() and mask.sum() == 64  # the dog's triangle is not merged in


def test_bad_imports_change_nothing(demo: Workspace, tmp_path: Path) -> None:
    image, other = demo.images("test", limit=2)
    demo.masks.set(image.id, np.ones((32, 32), dtype=bool))
    folder = tmp_path / "png" / "test"
    write_png(folder / Path(image.relpath).with_suffix(".png"), np.zeros((32, 32), bool))
    small = folder / Path(other.relpath).with_suffix(".png")
    write_png(small, np.zeros((5, 5), bool))
    with pytest.raises(DataError, match=rf"{small.name} is 5x5 but the image is 32x32"):
        demo.masks.import_from(tmp_path / "png", "png", skip_unmatched=True)
    small.unlink()
    (folder / Path(image.relpath).with_suffix(".png")).write_bytes(b"\x89PNG broken")
    with pytest.raises(DataError, match="not a readable PNG"):
        demo.masks.import_from(tmp_path / "png", "png")
    big = {
        "images": [{"id": 1, "file_name": f"test/{image.relpath}", "width": 64, "height": 64}],
        "categories": [{"id": 1, "name": "spurious"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "segmentation": [[0, 0, 4, 0, 4, 4]]}
        ],
    }
    (tmp_path / "big.json").write_text(json.dumps(big))
    with pytest.raises(DataError, match="64x64 but the image is 32x32"):
        demo.masks.import_from(tmp_path / "big.json", "coco")
    with pytest.raises(DataError, match="invalid mask import options: format"):
        demo.masks.import_from(tmp_path / "big.json", "yolo")
    assert demo.masks.get(image.id).all()
    assert demo.masks.current(image.id).version == 1


def test_command_line_export_and_quiet_dry_run_import(
    demo: Workspace, masked: dict[int, np.ndarray], tmp_path: Path, monkeypatch, capsys
) -> None:
    from tests.test_cli import run

    out = tmp_path / "tasks.json"
    code, text, _ = run(
        monkeypatch, capsys, "masks", "export", demo.root, out, "--format", "labelstudio"
    )
    assert code == 0 and "exported 4 spurious masks" in text
    clear(demo, masked)
    args = ("masks", "import", demo.root, out, "--format", "labelstudio")
    code, text, err = run(monkeypatch, capsys, *args, "-q", "--dry-run")
    assert code == 0 and "4 images matched, 4 would change (dry run" in text and not err
    code, text, _ = run(monkeypatch, capsys, *args, "--split", "train")
    assert code != 0 and "4 match no image" in text + _
    code, text, _ = run(monkeypatch, capsys, *args, "-q")
    assert code == 0 and "4 changed and stored" in text and same(demo, masked)
