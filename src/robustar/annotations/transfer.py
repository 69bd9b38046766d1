"""Import and export masks: PNG folders and COCO run-length-encoded JSON (pycocotools).

Both directions check everything before storing anything: an unknown image, a wrong size or a
non-binary mask stops the import with the file named, and no mask is changed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

import numpy as np
from pycocotools import mask as coco_mask

from robustar.annotations.maskfile import decode_mask, write_mask
from robustar.errors import DataError

ImageKey = tuple[str, str]  # (split, relpath)


def png_name(split: str, relpath: str) -> str:
    return str(PurePosixPath(split) / PurePosixPath(relpath).with_suffix(".png"))


def export_png(out: Path, items: Iterable[tuple[str, str, np.ndarray]]) -> int:
    """Write `<out>/<split>/<relpath>.png`, 0 and 255."""
    count = 0
    for split, relpath, mask in items:
        write_mask(mask, out / png_name(split, relpath))
        count += 1
    return count


def read_png_folder(folder: Path, images: dict[str, tuple[int, int, int]]) -> dict[int, np.ndarray]:
    """`images` maps png_name(split, relpath) to (image id, width, height)."""
    if not folder.is_dir():
        raise DataError(f"mask folder {folder} does not exist", "give the folder exported earlier")
    masks: dict[int, np.ndarray] = {}
    for path in sorted(folder.rglob("*.png")):
        name = path.relative_to(folder).as_posix()
        if name not in images:
            raise DataError(
                f"{path}: no image {name!r} in this workspace",
                "name mask files <split>/<image path>.png, as 'robustar masks export' does",
            )
        image_id, width, height = images[name]
        masks[image_id] = decode_mask(path.read_bytes(), width, height, str(path))
    if not masks:
        raise DataError(f"{folder} contains no PNG masks", "give the folder exported earlier")
    return masks


def export_coco(out: Path, kind: str, items: Iterable[tuple[int, str, str, np.ndarray]]) -> int:
    """One COCO file: images named `<split>/<relpath>`, one RLE annotation per mask."""
    images: list[dict[str, object]] = []
    annotations: list[dict[str, object]] = []
    for image_id, split, relpath, mask in items:
        height, width = mask.shape
        images.append(
            {"id": image_id, "file_name": f"{split}/{relpath}", "width": width, "height": height}
        )
        rle = coco_mask.encode(np.asfortranarray(mask.astype(np.uint8)))
        annotations.append(
            {
                "id": len(annotations) + 1,
                "image_id": image_id,
                "category_id": 1,
                "segmentation": {"size": rle["size"], "counts": rle["counts"].decode("ascii")},
                "area": float(coco_mask.area(rle)),
                "bbox": [float(v) for v in coco_mask.toBbox(rle)],
                "iscrowd": 1,
            }
        )
    document = {
        "info": {"description": f"Robustar {kind} masks"},
        "images": images,
        "annotations": annotations,
        "categories": [{"id": 1, "name": kind}],
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(document), encoding="utf-8")
    return len(annotations)


def _decode_segmentation(segmentation: object, height: int, width: int) -> np.ndarray:
    if isinstance(segmentation, list):  # polygons
        rles = coco_mask.frPyObjects(segmentation, height, width)
        return coco_mask.decode(coco_mask.merge(rles)).astype(bool)
    if isinstance(segmentation, dict) and isinstance(segmentation.get("counts"), list):
        rle = coco_mask.frPyObjects(segmentation, height, width)  # uncompressed RLE
        return coco_mask.decode(rle).astype(bool)
    if isinstance(segmentation, dict):
        counts = segmentation["counts"]
        rle = {"size": segmentation["size"], "counts": counts.encode("ascii")}
        return coco_mask.decode(rle).astype(bool)
    raise ValueError("segmentation is neither polygons nor RLE")


def read_coco(
    path: Path, kind: str, images: dict[str, tuple[int, int, int]]
) -> dict[int, np.ndarray]:
    """Masks by image id; several annotations of one image are united. Images are matched by
    file_name as `<split>/<relpath>`, else by a relpath or base name that is unique here."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        coco_images = {entry["id"]: entry for entry in document["images"]}
        categories = {c["id"]: c["name"] for c in document.get("categories", [])}
        annotations = document["annotations"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise DataError(f"{path} is not a COCO JSON file: {error}", "export it as COCO") from None
    wanted = {cid for cid, name in categories.items() if name == kind} or set(categories)
    by_suffix: dict[str, list[str]] = {}
    for name in images:
        parts = PurePosixPath(name).with_suffix("").parts
        for i in range(len(parts)):
            by_suffix.setdefault("/".join(parts[i:]), []).append(name)
    masks: dict[int, np.ndarray] = {}
    for annotation in annotations:
        if annotation.get("category_id") not in wanted:
            continue
        entry = coco_images.get(annotation.get("image_id"))
        if entry is None:
            raise DataError(
                f"{path}: annotation {annotation.get('id')} refers to a missing image entry",
                "fix the COCO file",
            )
        file_name = str(entry.get("file_name", ""))
        key = str(PurePosixPath(file_name).with_suffix(""))
        matches = by_suffix.get(key, []) or by_suffix.get(PurePosixPath(key).name, [])
        if len(matches) != 1:
            why = "no image" if not matches else f"{len(matches)} images"
            raise DataError(
                f"{path}: {file_name!r} matches {why} in this workspace",
                "name images <split>/<path inside the split> in the COCO file",
            )
        image_id, width, height = images[matches[0]]
        try:
            mask = _decode_segmentation(annotation["segmentation"], height, width)
        except (KeyError, ValueError, TypeError) as error:
            raise DataError(
                f"{path}: annotation {annotation.get('id')} has a bad segmentation: {error}",
                "use RLE or polygon segmentations",
            ) from None
        if mask.shape != (height, width):
            raise DataError(
                f"{path}: annotation {annotation.get('id')} is {mask.shape[1]}x{mask.shape[0]} "
                f"but {file_name} is {width}x{height}",
                "masks must have the image's native size",
            )
        masks[image_id] = masks[image_id] | mask if image_id in masks else mask
    return masks
