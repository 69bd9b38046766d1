"""Browser-ready image files: thumbnails and display copies, made once and cached on disk.

Cache files are named by the image's content fingerprint and a digest of the display settings
(`[image] display_channels`, intensity), so a changed file or setting gets a new entry and an
unchanged one is never recomputed. TIFF, DICOM and 16-bit files always go out as 8-bit copies.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from robustar.data.imageio import ImageDecodeError, Reading, load_image, unreadable
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
    fingerprint: str  # of the source image (+ display settings): changes when the picture does


def _atomic_save(image: Image.Image, path: Path, **options: object) -> None:
    with atomic_path(path) as tmp:
        image.save(tmp, **options)  # type: ignore[arg-type]


def _shown(fingerprint: str, reading: Reading) -> str:
    """The fingerprint of a picture made from the file by the display settings."""
    return f"{fingerprint}-{reading.for_display().key()}"


def thumbnail(
    cache: Path, source: Path, fingerprint: str, size: int, reading: Reading
) -> MediaFile:
    """A WebP that fits in size x size, keeping the aspect ratio."""
    if size not in THUMBNAIL_SIZES:
        raise DataError(
            f"thumbnail size {size} is not offered",
            f"use one of {', '.join(map(str, THUMBNAIL_SIZES))}",
        )
    shown = _shown(fingerprint, reading)
    path = cache / "thumbnails" / str(size) / fingerprint[:2] / f"{shown}.webp"
    if not path.is_file():
        image = load_image(source, reading, display=True)
        image.thumbnail((size, size), Image.Resampling.LANCZOS, reducing_gap=3.0)
        if max(image.size) < size // 2:  # tiny images: enlarge crisply instead of blurring
            scale = (size // 2) // max(image.size)
            enlarged = (image.width * scale, image.height * scale)
            image = image.resize(enlarged, Image.Resampling.NEAREST)
        _atomic_save(image, path, format="WEBP", quality=85, method=4)
    return MediaFile(path, "image/webp", shown)


def _shows_as_is(source: Path, reading: Reading) -> str | None:
    """The media type when a browser shows the original as the page would, else None."""
    if not reading.for_display().is_plain:
        return None
    try:
        probe = Image.open(source)
    except UnidentifiedImageError:  # DICOM, or a file Pillow does not know
        return None
    with probe:
        upright = probe.getexif().get(0x0112, 1) == 1
        if probe.format in BROWSER_FORMATS and probe.mode in BROWSER_MODES and upright:
            return BROWSER_FORMATS[probe.format]
    return None


def display_file(cache: Path, source: Path, fingerprint: str, reading: Reading) -> MediaFile:
    """The original when a browser shows it correctly as is, else an upright 8-bit PNG copy."""
    media_type = _shows_as_is(source, reading)
    if media_type is not None:
        return MediaFile(source, media_type, fingerprint)
    shown = _shown(fingerprint, reading)
    path = cache / "display" / fingerprint[:2] / f"{shown}.png"
    if not path.is_file():
        _atomic_save(load_image(source, reading, display=True), path, format="PNG")
    return MediaFile(path, "image/png", shown)


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
            return thumbnail(self._cache, source, fingerprint, size, self._images.reading)

    def display_file(self, image_id: int) -> MediaFile:
        """A file a browser shows correctly: the original, or a cached upright PNG copy."""
        source, fingerprint = self._source(image_id)
        with _readable(image_id):
            return display_file(self._cache, source, fingerprint, self._images.reading)


@contextmanager
def _readable(image_id: int) -> Iterator[None]:
    try:
        yield
    except (OSError, ImageDecodeError) as error:
        raise unreadable(image_id, error) from None
