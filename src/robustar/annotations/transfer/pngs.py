"""Masks as 8-bit PNG files (0 and 255) named after their images, in a folder or a zip."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

import numpy as np
from PIL import Image

from robustar.annotations.maskfile import MAX_MASK_BYTES, decode_mask
from robustar.annotations.transfer.shared import Decoder, Found, Item
from robustar.errors import DataError
from robustar.storage import atomic_bytes


def file_name(image_name: str) -> str:
    """`train/cat/01.jpg` -> `train/cat/01.png`; a name must stay inside the folder."""
    path = PurePosixPath(image_name)
    if path.is_absolute() or ".." in path.parts:
        raise DataError(
            f"the image name {image_name!r} would leave the mask folder",
            "export PNG folders without absolute paths or a prefix that climbs out",
        )
    return str(path.with_suffix(".png"))


def encode(mask: np.ndarray) -> bytes:
    """Grey 0/255, so that `np.array(Image.open(p)) > 127` is the mask in any reader."""
    buffer = io.BytesIO()
    Image.fromarray(np.where(mask, 255, 0).astype(np.uint8), "L").save(buffer, format="PNG")
    return buffer.getvalue()


def write_folder(out: Path, items: Iterable[Item]) -> int:
    count = 0
    for _, name, mask in items:
        atomic_bytes(out / file_name(name), encode(mask))
        count += 1
    return count


def zip_bytes(items: Iterable[Item]) -> tuple[bytes, int]:
    """A zip of the PNGs (stored: PNG is compressed already) and how many it holds."""
    buffer = io.BytesIO()
    count = 0
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for _, name, mask in items:
            archive.writestr(file_name(name), encode(mask))
            count += 1
    return buffer.getvalue(), count


def read_folder(folder: Path) -> list[Found]:
    if not folder.is_dir():
        raise DataError(f"mask folder {folder} does not exist", "give a folder of PNG masks")
    return [
        Found(path.relative_to(folder).as_posix(), str(path), _from_file(path))
        for path in sorted(folder.rglob("*.png"))
    ]


def read_zip(data: bytes, source: str) -> list[Found]:
    """The zip's PNG members (read in memory, each bounded; nothing is extracted)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [m for m in archive.infolist() if m.filename.lower().endswith(".png")]
    except (zipfile.BadZipFile, OSError) as error:
        raise DataError(f"{source} is not a zip file: {error}", "zip the PNG masks") from None
    found = []
    for member in members:
        if member.file_size > MAX_MASK_BYTES:
            raise DataError(
                f"{source}: {member.filename} is {member.file_size} bytes unpacked",
                f"masks are at most {MAX_MASK_BYTES} bytes",
            )
        where = f"{source}: {member.filename}"
        found.append(Found(member.filename, where, _from_member(archive, member, where)))
    return found


def _from_file(path: Path) -> Decoder:
    return lambda width, height: decode_mask(path.read_bytes(), width, height, str(path))


def _from_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo, where: str) -> Decoder:
    return lambda width, height: decode_mask(archive.read(member), width, height, where)
