"""Browsing: a split's images with a version's predictions, filtered and sorted by the
database; the gallery's and the image page's reads."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from robustar.data.images import ImageStore
from robustar.db.kinds import check_kind
from robustar.errors import DataError, NotFoundError
from robustar.models.store import ModelStore
from robustar.predict.gallery import (
    ImageFilter,
    ImageInfo,
    Neighbours,
    SortKey,
    count_images,
    get_image,
    get_images,
    list_ids,
    neighbours,
)
from robustar.predict.samples import Sample, annotated_kinds, to_sample

Page = tuple[SortKey, bool, int | None, int]  # sort, descending, limit, offset


def _check_flip(flip: str) -> str:
    if flip not in ("changed", "fixed", "broken"):
        raise DataError(f"unknown flip {flip!r}", "use changed, fixed or broken")
    return flip


class Browser:
    def __init__(self, images: ImageStore, models: ModelStore) -> None:
        self._images = images
        self._models = models

    def filter(
        self,
        split: str,
        label: int | str | None = None,
        predicted: int | str | None = None,
        correct: bool | None = None,
        min_confidence: float | None = None,
        max_confidence: float | None = None,
        annotated: bool | None = None,
        mask_kind: str = "spurious",
        versus: int | None = None,
        flip: str = "changed",
        suspicious: bool | None = None,
        ids: Collection[int] | None = None,
    ) -> ImageFilter:
        """Checked filters: class names or indexes, a known mask kind and flip, an existing
        version to compare with; `ids` keeps only those images."""
        self._images.folder(split)
        classes = self._images
        return ImageFilter(
            split,
            classes.class_index(label),
            classes.class_index(predicted),
            correct,
            min_confidence,
            max_confidence,
            annotated,
            check_kind(mask_kind),
            suspicious,
            None if versus is None else self._models.get(versus).id,
            _check_flip(flip),  # type: ignore[arg-type]
            None if ids is None else tuple(sorted({int(i) for i in ids})),
        )

    def class_index(self, value: int | str | None) -> int | None:
        return self._images.class_index(value)

    @contextmanager
    def _listing(
        self, split: str, version: int | None, filters: dict[str, object]
    ) -> Iterator[tuple[Session, ImageFilter, int | None]]:
        """A session, the checked filter and the version's id: what every listing starts with."""
        f = self.filter(split, **filters)  # type: ignore[arg-type]
        with self._images.db.session() as session:
            yield session, f, self._models.version_id(session, version)

    def images(
        self,
        split: str,
        *,
        sort: SortKey = "name",
        descending: bool = False,
        limit: int | None = None,
        offset: int = 0,
        version: int | None = None,
        **filters: object,
    ) -> list[ImageInfo]:
        """A page in two steps: ids from an index-only query, then the rows of just those."""
        with self._listing(split, version, filters) as (session, f, version_id):
            ids = list_ids(session, f, version_id, sort, descending, limit, offset)
            return get_images(session, ids, version_id)

    def ids(
        self, split: str, page: Page, version: int | None = None, **filters: object
    ) -> list[int]:
        """The ids `images` lists for `page` (sort, descending, limit, offset), rows unread."""
        with self._listing(split, version, filters) as (session, f, version_id):
            return list_ids(session, f, version_id, *page)

    def samples(self, infos: list[ImageInfo]) -> list[Sample]:
        """The images as `Sample`s (class names, file path, mask kinds), in the same order."""
        with self._images.db.session() as session:
            kinds = annotated_kinds(session, [i.id for i in infos])
        classes = self._images.classes
        return [
            to_sample(i, classes, self._images.folder(i.split), kinds.get(i.id, ())) for i in infos
        ]

    def count(self, split: str, *, version: int | None = None, **filters: object) -> int:
        with self._listing(split, version, filters) as (session, f, version_id):
            return count_images(session, f, version_id)

    def neighbours(
        self,
        image_id: int,
        split: str,
        *,
        sort: SortKey = "name",
        descending: bool = False,
        version: int | None = None,
        **filters: object,
    ) -> Neighbours:
        with self._listing(split, version, filters) as (session, f, version_id):
            return neighbours(session, f, version_id, image_id, sort, descending)

    def images_by_id(self, image_ids: list[int], version: int | None = None) -> list[ImageInfo]:
        with self._images.db.session() as session:
            return get_images(session, image_ids, self._models.version_id(session, version))

    def image(self, image_id: int, version: int | None = None) -> ImageInfo:
        with self._images.db.session() as session:
            found = get_image(session, image_id, self._models.version_id(session, version))
        if found is None:
            raise NotFoundError(
                f"image {image_id} does not exist in this workspace",
                "list image ids with Workspace.images(split)",
            )
        return found
