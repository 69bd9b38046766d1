"""Label-map save and load at 2048x2048 (issue 15's target: at most 1.2x Pillow alone).

The label map holds a background and round objects of 20 classes plus an ignore border, like
a VOC map. Baselines in the same run: Pillow writing the same indices as a PNG to the same
disk (the same compression level), and Pillow reading it into a NumPy array. Robustar's save
adds the class check and the atomic replace; its load the mode, size and class checks and,
for a palette PNG, the colour lookup.
"""

from __future__ import annotations

import shutil

import numpy as np
from PIL import Image

from bench.common import OUTPUT, best_of, table
from robustar.data.labelmaps import LabelClasses, read_label_map, write_label_map

SMOKE = {"side": 256, "repeats": 1}


def label_map(side: int, classes: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:side, 0:side]
    labels = np.zeros((side, side), dtype=np.uint8)
    for _ in range(40):
        cy, cx = rng.uniform(0, side, 2)
        radius = rng.uniform(0.02, 0.15) * side
        inside = (yy - cy) ** 2 + (xx - cx) ** 2 <= radius**2
        border = inside & ((yy - cy) ** 2 + (xx - cx) ** 2 >= (radius - 3) ** 2)
        labels[inside] = rng.integers(1, classes)
        labels[border] = 255
    return labels


def run(side: int = 2048, repeats: int = 7) -> str:
    folder = OUTPUT / "labelmap_io"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    classes = LabelClasses.of([f"class{i}" for i in range(21)])
    labels = label_map(side, 21)
    plain = folder / "pillow.png"

    def pillow_save() -> None:
        Image.fromarray(labels).save(plain, compress_level=1)

    def pillow_load() -> np.ndarray:
        with Image.open(plain) as image:
            return np.asarray(image)

    pillow_save()
    base_save, base_load = best_of(repeats, pillow_save), best_of(repeats, pillow_load)
    rows: list[list[object]] = [
        ["Pillow alone", f"{base_save * 1000:.1f}", f"{base_load * 1000:.1f}", "1.00", "1.00"]
    ]
    for palette in (False, True):
        path = folder / f"robustar-{'palette' if palette else 'index'}.png"
        save = best_of(repeats, lambda p=path, c=palette: write_label_map(p, labels, classes, c))
        load = best_of(repeats, lambda p=path: read_label_map(p, classes, (side, side)))
        assert np.array_equal(read_label_map(path, classes), labels)
        rows.append([
            f"robustar, {'palette (P)' if palette else 'indices (L)'}",
            f"{save * 1000:.1f}",
            f"{load * 1000:.1f}",
            f"{save / base_save:.2f}",
            f"{load / base_load:.2f}",
        ])  # fmt: skip
    return table(
        f"Label map {side}x{side}, 21 classes + ignore, best of {repeats}",
        ["writer / reader", "save ms", "load ms", "save ratio", "load ratio"],
        rows,
    )
