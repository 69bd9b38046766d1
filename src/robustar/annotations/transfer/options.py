"""What an export or import is asked to do, and what an import found: one model each, read by
the Python API, the command line (one flag per field) and the REST routes (query parameters)."""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from robustar.errors import DataError, validation_problems

Format = Literal["png", "coco", "coco-polygons", "labelstudio"]
Kind = Literal["spurious", "object"]


class ExportOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: Format = Field(
        "png",
        description="png (a folder of 0/255 PNGs, or a .zip), coco (RLE), coco-polygons "
        "(polygons; holes are cut open), labelstudio (tasks with brush labels)",
    )
    kind: Kind = "spurious"
    split: str | None = Field(None, max_length=64, description="one split only")
    label: str | None = Field(None, max_length=256, description="one class only (name or index)")
    image_root: str | None = Field(
        None,
        max_length=4096,
        description="name images relative to this folder (only compared with the images' "
        "paths, never opened); default: <split>/<path inside the split>",
    )
    absolute_paths: bool = Field(False, description="name images by their absolute path")
    name_prefix: str = Field(
        "",
        max_length=1024,
        description="put before every image name, e.g. /data/local-files/?d= (Label Studio's "
        "local files) or s3://bucket/",
    )


class ImportOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: Format = Field(
        "png",
        description="png (a folder or .zip of PNGs), coco or coco-polygons (RLE and polygons "
        "alike), labelstudio (JSON tasks with brush labels)",
    )
    kind: Kind = "spurious"
    category: str | None = Field(
        None,
        max_length=256,
        description="the COCO category or Label Studio brush label to read; default: the kind",
    )
    match: Literal["path", "stem"] = Field(
        "path",
        description="path: <split>/<image path> (or <image path> with --split, or a path "
        "under --image-root, or an absolute one); stem: the file name without suffix",
    )
    split: str | None = Field(
        None, max_length=64, description="match images of this split only (names may omit it)"
    )
    image_root: str | None = Field(
        None, max_length=4096, description="names are relative to this folder (never opened)"
    )
    skip_unmatched: bool = Field(
        False, description="store the matched masks although some match no image or several"
    )
    dry_run: bool = Field(False, description="report what would change; store nothing")


class ImportReport(BaseModel):
    """What an import matched and changed (a dry run: would change)."""

    dry_run: bool
    masks: int = Field(description="masks read from the source")
    matched: int = Field(description="images that match a mask")
    would_change: int = Field(description="matched images whose current mask differs")
    stored: int = Field(description="new mask versions saved (0 on a dry run)")
    unmatched: list[str] = Field(description="names that match no image")
    ambiguous: dict[str, list[str]] = Field(description="names that match several images")


Options = TypeVar("Options", ExportOptions, ImportOptions)


def parse(model: type[Options], values: dict[str, Any]) -> Options:
    """The options from keyword arguments; a wrong one is a DataError naming it."""
    try:
        return model.model_validate(values)
    except ValidationError as error:
        what = "export" if model is ExportOptions else "import"
        raise DataError(
            f"invalid mask {what} options: {validation_problems(error)}", "fix those options"
        ) from None
