"""Label Studio tasks (JSON) with brush labels: data.image names the image, each annotation's
`brushlabels` result holds the mask as Label Studio's brush RLE."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote, urlsplit

import numpy as np

from robustar.annotations.transfer import brush
from robustar.annotations.transfer.shared import Decoder, Found, Item, check_categories
from robustar.errors import DataError

FROM_NAME = "tag"  # the labelling config's <BrushLabels name>; see docs (the config to use)
TO_NAME = "image"  # its <Image name>
UPLOADED = re.compile(r"^/data/upload/\d+/[0-9a-f]{8}-")  # Label Studio renames uploads so


def tasks(items: Iterable[Item], kind: str) -> list[dict[str, Any]]:
    """One task per image, its mask one annotation with one brushlabels result."""
    return [
        {
            "data": {TO_NAME: name, "robustar_image_id": image_id},
            "annotations": [{"result": [_result(mask, kind)], "ground_truth": False}],
        }
        for image_id, name, mask in items
    ]


def _result(mask: np.ndarray, kind: str) -> dict[str, Any]:
    height, width = mask.shape
    return {
        "type": "brushlabels",
        "from_name": FROM_NAME,
        "to_name": TO_NAME,
        "original_width": width,
        "original_height": height,
        "image_rotation": 0,
        "value": {"format": "rle", "rle": brush.encode(mask), "brushlabels": [kind]},
    }


def image_name(value: str) -> str:
    """What an image URL in data.image names: a local-files path (?d=), an upload's original
    file name, a URL's path, or the value itself (a path)."""
    if "?d=" in value:
        return unquote(value.split("?d=", 1)[1])
    if UPLOADED.match(value):
        return UPLOADED.sub("", value)
    parts = urlsplit(value)
    if parts.scheme and parts.netloc:
        return unquote(parts.path).lstrip("/")
    return value


def read(data: bytes, source: str, label: str) -> list[Found]:
    """One Found per brushlabels result with `label`, from each task's last annotation that
    was not cancelled, else its first prediction."""
    try:
        document = json.loads(data)
        listed = document if isinstance(document, list) else [document]
        chosen = [(task, _image(task), _results(task)) for task in listed]
    except (ValueError, KeyError, TypeError, AttributeError, IndexError) as error:
        raise DataError(
            f"{source} is not a Label Studio JSON export: {error}",
            "export the project as JSON (tasks with annotations)",
        ) from None
    labels: set[str] = set()
    found = []
    for number, (task, image, results) in enumerate(chosen, 1):
        for result in results:
            value = result.get("value") if isinstance(result, dict) else None
            if not isinstance(value, dict) or "rle" not in value:
                continue
            names = value.get("brushlabels") or value.get("labels") or []
            labels.update(str(n) for n in names)
            if label in names:
                where = f"{source}: task {task.get('id', number)}"
                found.append(Found(image_name(image), where, _decoder(result, where)))
    check_categories(label, labels, source, "brush label")
    return found


def _image(task: dict[str, Any]) -> str:
    data = task["data"]
    if TO_NAME in data:
        return str(data[TO_NAME])
    texts = [v for v in data.values() if isinstance(v, str)]
    if len(texts) != 1:
        raise ValueError(f"task {task.get('id')} has no data.image")
    return texts[0]


def _results(task: dict[str, Any]) -> list[Any]:
    done = [a for a in task.get("annotations") or [] if not a.get("was_cancelled")]
    if done:
        return list(done[-1].get("result") or [])
    predictions = task.get("predictions") or []
    return list(predictions[0].get("result") or []) if predictions else []


def _decoder(result: dict[str, Any], where: str) -> Decoder:
    def decode(width: int, height: int) -> np.ndarray:
        size = (result.get("original_width", width), result.get("original_height", height))
        if size != (width, height):
            raise DataError(
                f"{where} is {size[0]}x{size[1]} but its image is {width}x{height}",
                "masks must have the image's native size",
            )
        return brush.decode(result["value"]["rle"], width, height, where)

    return decode
