"""Browser-ready image files: thumbnails and display copies, made once and cached on disk.

Cache files are named by the image's content fingerprint, so a changed file gets a new entry and
an unchanged one is never recomputed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from robustar.data.imageio import ImageDecodeError, load_image, unreadable
from robustar.data.images import ImageStore
from robustar.errors import DataError
from robustar.storage import atomic_path

THUMBNAIL_SIZES = (64, 128, 256)
# Originals in these formats, 8-bit and upright, go to the browser as they are.
BROWSER_FORMATS = {
    "PNG": "image/png",
    "JPEG": "image/jpeg",
    "GIF": "image/gif",
    "WEBP": "image/webp",
}
BROWSER_MODES = {"RGB", "L", "RGBA", "P", "LA"}


@dataclass(frozen=True)
class MediaFile:
    path: Path
    media_type: str
    fingerprint: str  # of the source image: changes exactly when the content does


def _atomic_save(image: Image.Image, path: Path, **options: object) -> None:
    with atomic_path(path) as tmp:
        image.save(tmp, **options)  # type: ignore[arg-type]


def thumbnail(cache: Path, source: Path, fingerprint: str, size: int, max_pixels: int) -> MediaFile:
    """A WebP that fits in size x size, keeping the aspect ratio."""
    if size not in THUMBNAIL_SIZES:
        raise DataError(
            f"thumbnail size {size} is not offered",
            f"use one of {', '.join(map(str, THUMBNAIL_SIZES))}",
        )
    path = cache / "thumbnails" / str(size) / fingerprint[:2] / f"{fingerprint}.webp"
    if not path.is_file():
        image = load_image(source, max_pixels)
        image.thumbnail((size, size), Image.Resampling.LANCZOS, reducing_gap=3.0)
        if max(image.size) < size // 2:  # tiny images: enlarge crisply instead of blurring
            scale = (size // 2) // max(image.size)
            enlarged = (image.width * scale, image.height * scale)
            image = image.resize(enlarged, Image.Resampling.NEAREST)
        _atomic_save(image, path, format="WEBP", quality=85, method=4)
    return MediaFile(path, "image/webp", fingerprint)


def display_file(cache: Path, source: Path, fingerprint: str, max_pixels: int) -> MediaFile:
    """The original when a browser shows it correctly as is, else an upright 8-bit PNG copy."""
    with Image.open(source) as probe:
        upright = probe.getexif().get(0x0112, 1) == 1
        if probe.format in BROWSER_FORMATS and probe.mode in BROWSER_MODES and upright:
            return MediaFile(source, BROWSER_FORMATS[probe.format], fingerprint)
    path = cache / "display" / fingerprint[:2] / f"{fingerprint}.png"
    if not path.is_file():
        _atomic_save(load_image(source, max_pixels), path, format="PNG")
    return MediaFile(path, "image/png", fingerprint)


class Media:
    """`Workspace.media`: browser-ready files of indexed images, by id, cached in `cache`."""

    def __init__(self, images: ImageStore, cache: Path) -> None:
        self._images = images
        self._cache = cache

    def _source(self, image_id: int) -> tuple[Path, str]:
        record = self._images.record(image_id)
        return self._images.folder(record.split) / record.relpath, record.fingerprint

    def thumbnail(self, image_id: int, size: int = 128) -> MediaFile:
        """A cached WebP thumbnail of the image (made on first request)."""
        source, fingerprint = self._source(image_id)
        with _readable(image_id):
            return thumbnail(self._cache, source, fingerprint, size, self._images.config.max_pixels)

    def display_file(self, image_id: int) -> MediaFile:
        """A file a browser shows correctly: the original, or a cached upright PNG copy."""
        source, fingerprint = self._source(image_id)
        with _readable(image_id):
            return display_file(self._cache, source, fingerprint, self._images.config.max_pixels)


@contextmanager
def _readable(image_id: int) -> Iterator[None]:
    try:
        yield
    except (OSError, ImageDecodeError) as error:
        raise unreadable(image_id, error) from None
