"""The models taking part in MAD: model versions, each with its own input settings and, for
a model trained on another class list, an explicit map from its outputs onto our classes."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

import torch
from sqlalchemy import select
from sqlalchemy.orm import Session

from robustar.config import ImageConfig
from robustar.db.tables import MadModel, ModelVersion
from robustar.errors import DataError, NotFoundError

MAP_FIX = (
    "give a class map: CSV rows 'output,class' (the model's output index and one of this "
    "workspace's class names; outputs not listed are ignored), or a JSON list of class names "
    "in output order (null for an output that is none of ours)"
)


@dataclass(frozen=True)
class Competitor:
    """A model registered for MAD and how it sees images."""

    version_id: int
    name: str
    architecture: str
    outputs: int
    size: int
    mean: list[float]
    std: list[float]
    class_map: list[int] | None

    def image_config(self, base: ImageConfig) -> ImageConfig:
        """The workspace's image settings with this model's size and normalisation."""
        return base.model_copy(update={"size": self.size, "mean": self.mean, "std": self.std})


def read_class_map(text: str, classes: list[str], outputs: int) -> list[int]:
    """Output index -> our class index (-1: none) from CSV or JSON text."""
    mapping = [-1] * outputs

    def put(output: int, name: str | None, where: str) -> None:
        if not 0 <= output < outputs:
            raise DataError(
                f"class map {where}: output {output} is not in 0..{outputs - 1}", MAP_FIX
            )
        if name is None:
            return
        if name not in classes:
            raise DataError(
                f"class map {where}: {name!r} is not a class of this workspace "
                f"({', '.join(classes)})",
                MAP_FIX,
            )
        mapping[output] = classes.index(name)

    stripped = text.strip()
    if stripped.startswith("["):
        names = json.loads(stripped)
        if not isinstance(names, list) or len(names) != outputs:
            raise DataError(
                f"the class map lists {len(names)} names for {outputs} outputs", MAP_FIX
            )
        for i, name in enumerate(names):
            put(i, name, f"entry {i}")
    else:
        for line, row in enumerate(csv.reader(io.StringIO(stripped)), 1):
            if not row or (line == 1 and row[0].strip().lower() == "output"):
                continue
            if len(row) != 2 or not row[0].strip().isdigit():
                raise DataError(
                    f"class map line {line}: expected 'output,class', got {row!r}", MAP_FIX
                )
            put(int(row[0]), row[1].strip(), f"line {line}")
    if all(c < 0 for c in mapping):
        raise DataError("the class map maps no output onto a class of this workspace", MAP_FIX)
    return mapping


def load_class_map(path: str | Path, classes: list[str], outputs: int) -> list[int]:
    path = Path(path).expanduser()
    if not path.is_file():
        raise DataError(f"class map {path} does not exist", MAP_FIX)
    return read_class_map(path.read_text(encoding="utf-8"), classes, outputs)


def to_competitor(version: ModelVersion, row: MadModel) -> Competitor:
    return Competitor(
        version.id,
        version.name,
        version.architecture,
        version.num_classes,
        row.size,
        list(row.mean),
        list(row.std),
        None if row.class_map is None else list(row.class_map),
    )


def check_fits(model: torch.nn.Module, size: int, outputs: int, name: str) -> None:
    """Refuse a model that cannot take `size` inputs or does not give `outputs` scores."""
    try:
        with torch.inference_mode():
            out = model.eval()(torch.zeros(1, 3, size, size))
    except RuntimeError as error:
        raise DataError(
            f"model {name} does not accept {size}x{size} images: {str(error).splitlines()[0]}",
            "register it with the image size it was trained on (--image-size)",
        ) from None
    if out.ndim != 2 or out.shape[1] != outputs:
        raise DataError(
            f"model {name} gives outputs of shape {tuple(out.shape)}, not (batch, {outputs})",
            "register a classifier whose last layer has one output per class",
        )


def register(
    session: Session,
    version: ModelVersion,
    image: ImageConfig,
    classes: list[str],
    class_map: list[int] | None,
) -> Competitor:
    """Add (or update) a model's MAD settings after checking its classes."""
    if class_map is None and version.num_classes != len(classes):
        raise DataError(
            f"model {version.name} has {version.num_classes} outputs, this workspace "
            f"{len(classes)} classes",
            MAP_FIX,
        )
    row = session.get(MadModel, version.id) or MadModel(version_id=version.id)
    row.size, row.mean, row.std, row.class_map = image.size, image.mean, image.std, class_map
    session.add(row)
    session.flush()
    return to_competitor(version, row)


def registered(session: Session) -> list[Competitor]:
    rows = session.execute(
        select(ModelVersion, MadModel)
        .join(MadModel, MadModel.version_id == ModelVersion.id)
        .order_by(ModelVersion.id)
    )
    return [to_competitor(v, m) for v, m in rows]


def get(session: Session, version_id: int) -> Competitor:
    row = session.get(MadModel, version_id)
    version = session.get(ModelVersion, version_id)
    if row is None or version is None:
        raise NotFoundError(
            f"model version {version_id} is not registered for MAD",
            f"register it: robustar discover mad add WORKSPACE --version {version_id}",
            f"ws.mad.add(version={version_id})",
        )
    return to_competitor(version, row)
