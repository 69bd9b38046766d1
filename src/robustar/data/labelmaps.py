"""Label maps for semantic segmentation: PNGs of class indices, read, checked and written.

Two encodings are read: a single-channel PNG (mode L, or a bilevel mode 1 mask) whose pixel
values are class indices, and a VOC-style palette PNG (mode P) whose pixel colours are the
classes' colours. Either way
the result is a `uint8` array of class indices in which `ignore_index` (255 by default, as in
PASCAL VOC) marks pixels no loss or metric counts. Labelled images live in paired folders,
`images/` and `labels/`, an image and its label map sharing a file stem.

Every refusal is a `DataError` that names the file, what is wrong and the fix, so a bad label
map is stopped where it enters instead of surfacing as a wrong loss later.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from robustar.errors import DataError
from robustar.storage import atomic_write

IGNORE_INDEX = 255
IGNORE_COLOUR = (224, 224, 192)  # PASCAL VOC's colour for its "void" boundary pixels
LABELS_DIR, IMAGES_DIR = "labels", "images"
_SHOWN = 5
_CHUNK = 1 << 16
_MODES = ("L", "P", "1")  # indices, palette colours, a bilevel mask (classes 0 and 1)
_ORIENTATION = 0x0112  # EXIF orientation; 5..8 turn the picture a quarter round
Colour = tuple[int, int, int]


def voc_colour(index: int) -> Colour:
    """Colour `index` of the PASCAL VOC palette (the bits of the index spread over R, G, B)."""
    r = g = b = 0
    for shift in range(8):
        r |= ((index >> 0) & 1) << (7 - shift)
        g |= ((index >> 1) & 1) << (7 - shift)
        b |= ((index >> 2) & 1) << (7 - shift)
        index >>= 3
    return r, g, b


def parse_colour(text: str, where: str) -> Colour:
    """'#rrggbb' as an RGB triple."""
    value = text.strip().removeprefix("#")
    if len(value) != 6 or any(c not in "0123456789abcdefABCDEF" for c in value):
        raise DataError(f"{where}: colour {text!r} is not #rrggbb", "write colours as #rrggbb")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


@dataclass(frozen=True)
class LabelClasses:
    """The classes of a segmentation task in index order, their colours, and the index that
    marks ignored pixels (which must lie outside the class indices)."""

    names: tuple[str, ...]
    colours: tuple[Colour, ...]
    ignore_index: int = IGNORE_INDEX

    def __post_init__(self) -> None:
        count = len(self.names)
        if count < 2:
            raise DataError(
                f"a segmentation task needs at least 2 classes (background and one more), "
                f"not {count}",
                "list the classes, background first",
            )
        if len(set(self.names)) != count:
            raise DataError("the segmentation class list names a class twice", "keep one each")
        if not 0 <= self.ignore_index <= 255 or self.ignore_index < count:
            raise DataError(
                f"ignore index {self.ignore_index} is not in {count}..255 (it must differ from "
                f"the {count} class indices and fit a byte)",
                f"use the default {IGNORE_INDEX}",
            )
        if len(self.colours) != count:
            raise DataError(
                f"{len(self.colours)} colours for {count} segmentation classes",
                "give one colour per class, or none for the PASCAL VOC palette",
            )
        if len(set(self.colours)) != count or IGNORE_COLOUR in self.colours:
            raise DataError(
                "two segmentation classes share a colour (or one uses the ignore colour "
                f"{IGNORE_COLOUR}), so a palette PNG could not tell them apart",
                "give each class its own colour",
            )

    @classmethod
    def of(
        cls,
        names: Sequence[str],
        colours: Sequence[str | Colour] | None = None,
        ignore_index: int = IGNORE_INDEX,
    ) -> LabelClasses:
        """Names (e.g. `[data] classes`) with '#rrggbb' or RGB colours, by default VOC's."""
        chosen = [
            parse_colour(c, "segmentation classes") if isinstance(c, str) else tuple(c)
            for c in (colours if colours is not None else map(voc_colour, range(len(names))))
        ]
        triples = tuple((int(c[0]), int(c[1]), int(c[2])) for c in chosen)
        return cls(tuple(names), triples, ignore_index)

    @classmethod
    def read(cls, path: Path, ignore_index: int = IGNORE_INDEX) -> LabelClasses:
        """A class file: one class per line in index order, `name` or `name #rrggbb`
        (all lines with a colour, or none); blank lines and lines starting with # skipped."""
        if not path.is_file():
            raise DataError(
                f"segmentation class file {path} does not exist",
                "write one class per line ('name' or 'name #rrggbb'), background first",
            )
        names: list[str] = []
        colours: list[Colour] = []
        for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            name, _, colour = line.rpartition(" #")
            if name and colour:
                names.append(name.strip())
                colours.append(parse_colour(colour, f"{path} line {number}"))
            else:
                names.append(line)
        if colours and len(colours) != len(names):
            raise DataError(
                f"{path}: {len(colours)} of {len(names)} classes have a colour",
                "give every class a colour, or none (the PASCAL VOC palette is used)",
            )
        return cls.of(names, colours or None, ignore_index)

    def palette(self) -> list[int]:
        """A 256-entry PIL palette: class i at index i, the ignore colour at the ignore index."""
        entries = [(0, 0, 0)] * 256
        entries[: len(self.colours)] = self.colours
        entries[self.ignore_index] = IGNORE_COLOUR
        return [channel for colour in entries for channel in colour]


def upright_size(path: Path) -> tuple[int, int]:
    """(width, height) of an image as it is decoded for the model: EXIF-turned upright."""
    try:
        with Image.open(path) as image:
            width, height = image.size
            turned = image.getexif().get(_ORIENTATION, 1) in (5, 6, 7, 8)
    except (OSError, ValueError) as error:
        raise DataError(f"image {path} cannot be read: {error}", "replace the file") from None
    return (height, width) if turned else (width, height)


def read_label_map(
    path: Path, classes: LabelClasses, size: tuple[int, int] | None = None
) -> np.ndarray:
    """The label map at `path` as an (H, W) uint8 array of class indices (or the ignore
    index), checked against `classes` and, when given, the image's (width, height)."""
    palette = np.zeros((0, 3), dtype=np.uint8)
    try:
        with Image.open(path) as image:
            image.load()
            mode, found = image.mode, image.size
            indices = np.asarray(image, np.uint8) if mode in _MODES else np.zeros(0, np.uint8)
            if mode == "P":
                palette = np.asarray(image.getpalette() or [], dtype=np.uint8).reshape(-1, 3)
    except FileNotFoundError:
        raise DataError(
            f"label map {path} does not exist", "add the label map or remove its image"
        ) from None
    except (OSError, ValueError) as error:
        raise DataError(
            f"label map {path} cannot be read: {error}", "save it again as a PNG"
        ) from None
    if mode not in _MODES:
        raise DataError(
            f"label map {path} is a {mode} image; a label map is a single-channel PNG of "
            "class indices (mode L) or a palette PNG of class colours (mode P)",
            "save it as 8-bit greyscale class indices (Image.fromarray(indices.astype('uint8')))"
            " or as a palette PNG in the class colours",
        )
    if size is not None and found != tuple(size):
        raise DataError(
            f"label map {path} is {found[0]}x{found[1]} but its image is {size[0]}x{size[1]}",
            "save the label map at its image's size (resize it with nearest-neighbour "
            "interpolation, never a smoothing one)",
        )
    if mode == "P":  # colours are mapped to class indices or refused: nothing else to check
        return _by_colour(indices, palette, classes, path)
    check_indices(indices, classes, str(path))
    return indices


def _uses(indices: np.ndarray, entries: np.ndarray) -> bool:
    """Whether any pixel holds one of the `entries` (a 256-long mask). A few runs of entries
    are tested by comparisons, which are an order faster on a large map than a lookup."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], entries.astype(np.int8), [0]])))
    runs = list(zip(edges[::2], edges[1::2] - 1, strict=True))
    if len(runs) > 8:
        return bool(np.take(entries, indices).any())
    return any(bool(((indices >= lo) & (indices <= hi)).any()) for lo, hi in runs)


def _by_colour(
    indices: np.ndarray, palette: np.ndarray, classes: LabelClasses, path: Path
) -> np.ndarray:
    """Palette indices → class indices, through each palette entry's colour; an error when
    a pixel uses an entry whose colour is no class's (or the ignore colour)."""
    lookup = {colour: i for i, colour in enumerate(classes.colours)}
    lookup[IGNORE_COLOUR] = classes.ignore_index
    identity = np.arange(256, dtype=np.uint8)
    table, unknown = identity.copy(), np.ones(256, dtype=bool)
    for entry, rgb in enumerate(palette[:256].tolist()):
        if (found := lookup.get((rgb[0], rgb[1], rgb[2]))) is not None:
            table[entry], unknown[entry] = found, False
    if _uses(indices, unknown):
        used = np.unique(indices[np.take(unknown, indices)])
        colours = [tuple(palette[e]) if e < len(palette) else None for e in used.tolist()]
        shown = ", ".join("#{:02x}{:02x}{:02x}".format(*c) if c else "none" for c in colours)
        raise DataError(
            f"palette label map {path} uses colours that are no class's: {shown[:200]}",
            "paint only in the class colours ("
            + ", ".join(
                f"{n} #{r:02x}{g:02x}{b:02x}"
                for n, (r, g, b) in zip(classes.names, classes.colours, strict=True)
            )[:300]
            + "), or add the colours to the class list",
        )
    return np.take(table, indices) if _uses(indices, table != identity) else indices


def check_indices(labels: np.ndarray, classes: LabelClasses, where: str) -> None:
    """Refuse values that are neither a class index nor the ignore index."""
    count, bad = len(classes.names), []
    if labels.size and (labels.min() < 0 or _outside(labels, count, classes.ignore_index)):
        outside = (labels >= count) & (labels != classes.ignore_index) | (labels < 0)
        bad = [int(v) for v in np.unique(labels[outside])]
    if bad or labels.ndim != 2:
        raise DataError(
            f"label map {where} holds class indices {bad[:_SHOWN]} but there are "
            f"{len(classes.names)} classes (0..{len(classes.names) - 1}, "
            f"{classes.ignore_index} = ignore)"
            if bad
            else f"label map {where} has shape {labels.shape}, not (height, width)",
            "use indices 0..N-1 of the class list and the ignore index for unlabelled pixels, "
            "or add the missing classes to the class list",
        )


def _outside(labels: np.ndarray, count: int, ignore: int) -> bool:
    """Whether a value is >= `count` and not `ignore`. Cheap when the largest value is a
    class; otherwise compared in chunks through two small buffers, since fresh full-size
    temporaries cost a map of 4 megapixels more in page faults than the comparisons do."""
    if labels.max() < count:
        return False
    flat = labels.reshape(-1)
    low, high = np.empty(min(_CHUNK, flat.size), bool), np.empty(min(_CHUNK, flat.size), bool)
    for start in range(0, flat.size, _CHUNK):
        part = flat[start : start + _CHUNK]
        a, b = low[: len(part)], high[: len(part)]
        np.greater_equal(part, count, out=a)
        np.not_equal(part, ignore, out=b)
        if np.logical_and(a, b, out=a).any():
            return True
    return False


def write_label_map(
    path: Path, labels: np.ndarray, classes: LabelClasses, palette: bool = True
) -> None:
    """Write (atomically) a checked label map: a VOC-style palette PNG, or (`palette=False`)
    a single-channel PNG of indices."""
    labels = np.asarray(labels)
    if not np.issubdtype(labels.dtype, np.integer):
        raise DataError(f"label map {path}: {labels.dtype} values", "pass integer class indices")
    check_indices(labels, classes, str(path))
    image = Image.fromarray(np.ascontiguousarray(labels, dtype=np.uint8))
    if palette:
        image.putpalette(classes.palette())  # L becomes P, the values its palette indices
    atomic_write(path, lambda tmp: image.save(tmp, format="PNG", compress_level=1))


@dataclass(frozen=True)
class LabelledImage:
    image: Path
    label: Path


def pair_folder(root: Path, require_labels: bool = True) -> list[LabelledImage]:
    """The images of `root/images/` with their label maps `root/labels/<stem>.png`, by stem.
    With `require_labels`, an image without a label map (or a label map without an image) is
    an error; otherwise (a pool) images without one are left out."""
    images_dir, labels_dir = root / IMAGES_DIR, root / LABELS_DIR
    if not images_dir.is_dir():
        raise DataError(
            f"{root} has no {IMAGES_DIR}/ folder",
            f"put the images in {images_dir} and their label maps (same file stem, .png) "
            f"in {labels_dir}",
        )
    images = {p.stem: p for p in _files(images_dir)}
    labels = {p.stem: p for p in _files(labels_dir)} if labels_dir.is_dir() else {}
    if len(images) != len(_files(images_dir)):
        raise DataError(
            f"{images_dir} holds two images with the same stem", "give every image its own stem"
        )
    if require_labels:
        lone_images = sorted(set(images) - set(labels))
        lone_labels = sorted(set(labels) - set(images))
        if lone_images or lone_labels:
            details = []
            if lone_images:
                details.append(f"images without a label map: {lone_images[:_SHOWN]}")
            if lone_labels:
                details.append(f"label maps without an image: {lone_labels[:_SHOWN]}")
            raise DataError(
                f"{root}: {'; '.join(details)}",
                f"give each image in {images_dir} a label map of the same stem in {labels_dir}"
                " (a .png), or move unlabelled images to the pool",
            )
    return [LabelledImage(images[s], labels[s]) for s in sorted(images) if s in labels]


def read_pair(pair: LabelledImage, classes: LabelClasses) -> np.ndarray:
    """The pair's label map, checked against its classes and its image's size."""
    return read_label_map(pair.label, classes, upright_size(pair.image))


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
