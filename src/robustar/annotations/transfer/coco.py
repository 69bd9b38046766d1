"""COCO instance segmentation JSON: one annotation per mask, as RLE or as polygons."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import numpy as np
from pycocotools import mask as coco_mask

from robustar.annotations.transfer.polygons import mask_to_polygons
from robustar.annotations.transfer.shared import Decoder, Found, Item, check_categories
from robustar.errors import DataError


def document(items: Iterable[Item], kind: str, polygons: bool) -> dict[str, Any]:
    """Images named as given; one category named `kind`; RLE (iscrowd 1) or polygons
    (iscrowd 0; an empty mask gets no annotation, a polygon cannot be empty)."""
    images: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    for image_id, name, mask in items:
        height, width = mask.shape
        images.append({"id": image_id, "file_name": name, "width": width, "height": height})
        rle = coco_mask.encode(np.asfortranarray(mask.astype(np.uint8)))
        if polygons:
            segmentation: Any = mask_to_polygons(mask)
            if not segmentation:
                continue
        else:
            segmentation = {"size": rle["size"], "counts": rle["counts"].decode("ascii")}
        annotations.append(
            {
                "id": len(annotations) + 1,
                "image_id": image_id,
                "category_id": 1,
                "segmentation": segmentation,
                "area": float(coco_mask.area(rle)),
                "bbox": [float(v) for v in coco_mask.toBbox(rle)],
                "iscrowd": 0 if polygons else 1,
            }
        )
    return {
        "info": {"description": f"Robustar {kind} masks"},
        "images": images,
        "annotations": annotations,
        "categories": [{"id": 1, "name": kind, "supercategory": "robustar"}],
    }


def read(data: bytes, source: str, category: str) -> list[Found]:
    """One Found per annotation of `category` (RLE, uncompressed RLE or polygons)."""
    try:
        document = json.loads(data)
        entries = {entry["id"]: entry for entry in document["images"]}
        categories = {c["id"]: str(c["name"]) for c in document.get("categories", [])}
        annotations = list(document["annotations"])
    except (ValueError, KeyError, TypeError) as error:
        raise DataError(f"{source} is not a COCO JSON file: {error}", "export it as COCO") from None
    check_categories(category, set(categories.values()), source, "category")
    wanted = {cid for cid, name in categories.items() if name == category}
    found = []
    for annotation in annotations:
        if not isinstance(annotation, dict) or annotation.get("category_id") not in wanted:
            continue
        where = f"{source}: annotation {annotation.get('id')}"
        entry = entries.get(annotation.get("image_id"))
        if entry is None:
            raise DataError(f"{where} refers to a missing image entry", "fix the COCO file")
        decoder = _decoder(annotation, entry, where)
        found.append(Found(str(entry.get("file_name", "")), where, decoder))
    return found


def _decoder(annotation: dict[str, Any], entry: dict[str, Any], where: str) -> Decoder:
    def decode(width: int, height: int) -> np.ndarray:
        size = (entry.get("width", width), entry.get("height", height))
        if size != (width, height):
            raise DataError(
                f"{where}: its image entry is {size[0]}x{size[1]} but the image is "
                f"{width}x{height}",
                "masks must have the image's native size",
            )
        try:
            mask = _segmentation(annotation["segmentation"], height, width)
        except (KeyError, ValueError, TypeError, AttributeError) as error:
            raise DataError(
                f"{where} has a bad segmentation: {error}", "use RLE or polygon segmentations"
            ) from None
        if mask.shape != (height, width):
            raise DataError(
                f"{where} is {mask.shape[1]}x{mask.shape[0]} but its image is {width}x{height}",
                "masks must have the image's native size",
            )
        return mask

    return decode


def _segmentation(segmentation: object, height: int, width: int) -> np.ndarray:
    if isinstance(segmentation, list):  # polygons
        rles = coco_mask.frPyObjects(segmentation, height, width)
        return np.asarray(coco_mask.decode(coco_mask.merge(rles)), dtype=bool)
    if isinstance(segmentation, dict) and isinstance(segmentation.get("counts"), list):
        rle = coco_mask.frPyObjects(segmentation, *segmentation["size"])  # uncompressed RLE
        return np.asarray(coco_mask.decode(rle), dtype=bool)
    if isinstance(segmentation, dict):
        rle = {"size": segmentation["size"], "counts": segmentation["counts"].encode("ascii")}
        return np.asarray(coco_mask.decode(rle), dtype=bool)
    raise ValueError("segmentation is neither polygons nor RLE")
