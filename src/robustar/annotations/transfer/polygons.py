"""A binary mask as COCO polygons that rasterize back to exactly its pixels.

COCO unites an annotation's polygons and has no holes, so a region with a hole is first cut
into pieces without holes (a vertical cut at each hole's leftmost column opens it), and each
piece is outlined along pixel edges (vertices on pixel corners): pycocotools fills such an
outline to the very pixels it surrounds.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

FOUR = ndimage.generate_binary_structure(2, 1)
# unit moves between pixel corners (x, y), in the order right, down, left, up
STEPS = ((1, 0), (0, 1), (-1, 0), (0, -1))


def mask_to_polygons(mask: np.ndarray) -> list[list[float]]:
    """Flat [x0, y0, x1, y1, ...] outlines whose union is `mask` (pixel-exact)."""
    polygons = []
    for piece, (top, left) in _hole_free_pieces(mask.astype(bool), (0, 0)):
        labels, count = ndimage.label(piece, FOUR)
        for index in range(1, count + 1):
            outline = _outline(labels == index)
            polygons.append([float(v) for x, y in outline for v in (x + left, y + top)])
    return polygons


def _hole_free_pieces(
    mask: np.ndarray, offset: tuple[int, int]
) -> list[tuple[np.ndarray, tuple[int, int]]]:
    """Split until no piece encloses background; each piece with its (top, left) offset."""
    pieces, pending = [], [(mask, offset)]
    while pending:
        part, (row, col) = pending.pop()
        rows, cols = np.nonzero(part)
        if rows.size == 0:
            continue
        top, left = int(rows.min()), int(cols.min())
        crop = part[top : rows.max() + 1, left : cols.max() + 1]
        origin = (row + top, col + left)
        outside, _ = ndimage.label(np.pad(~crop, 1, constant_values=True), FOUR)
        holes = (~crop) & (outside[1:-1, 1:-1] != outside[0, 0])
        if not holes.any():
            pieces.append((crop, origin))
            continue
        cut = int(np.nonzero(holes.any(axis=0))[0].min())  # the leftmost hole column
        pending += [(crop[:, :cut], origin), (crop[:, cut:], (origin[0], origin[1] + cut))]
    return pieces


def _outline(component: np.ndarray) -> list[tuple[int, int]]:
    """The corner vertices around one 4-connected region without holes, clockwise on screen,
    collinear vertices dropped."""
    padded = np.pad(component, 1)
    inside = padded[1:-1, 1:-1]
    following: dict[tuple[int, int], tuple[int, int]] = {}
    # edges with the region on their right (screen coordinates, y down): top edges run
    # right, right edges down, bottom edges left, left edges up
    sides = (
        (padded[:-2, 1:-1], (0, 0), 0),
        (padded[1:-1, 2:], (1, 0), 1),
        (padded[2:, 1:-1], (1, 1), 2),
        (padded[1:-1, :-2], (0, 1), 3),
    )
    for neighbour, (dx, dy), step in sides:
        ys, xs = np.nonzero(inside & ~neighbour)
        sx, sy = STEPS[step]
        for x, y in zip((xs + dx).tolist(), (ys + dy).tolist(), strict=True):
            following[(x, y)] = (x + sx, y + sy)
    start = min(following)
    outline = [start]
    point = following[start]
    while point != start:
        outline.append(point)
        point = following[point]
    return [
        p
        for i, p in enumerate(outline)
        if not _collinear(outline[i - 1], p, outline[(i + 1) % len(outline)])
    ]


def _collinear(a: tuple[int, int], b: tuple[int, int], c: tuple[int, int]) -> bool:
    return (b[0] - a[0]) * (c[1] - b[1]) == (b[1] - a[1]) * (c[0] - b[0])
