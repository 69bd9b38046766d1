"""Views: lazy, chainable selections of a split's images, in the FiftyOne style.

`ws.view("test").wrong().sort_by("loss", reverse=True).take(50)` builds a query and runs
nothing; iterating, `len()`, `.ids()`, `.first()`, `.to_pandas()` and `.export()` run it,
through the gallery's own query (`predict/gallery.py`), so a view lists exactly what the
gallery lists for the same filters and sort.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args

from robustar.annotations.masks import Masks
from robustar.db.kinds import MASK_KINDS, check_kind
from robustar.errors import DataError, NotFoundError
from robustar.predict.browse import Browser
from robustar.predict.gallery import SortKey
from robustar.predict.samples import Sample

if TYPE_CHECKING:
    import pandas

PAGE = 1000  # images read per query while iterating


@dataclass(frozen=True)
class _Query:
    """What a view selects: the gallery's filters (as `Browser.filter` takes them), its sort,
    and a slice applied after both; `steps` spell the chain for `repr`."""

    split: str
    filters: dict[str, Any] = field(default_factory=dict)
    sort: SortKey = "name"
    descending: bool = False
    offset: int = 0
    limit: int | None = None
    version: int | None = None
    steps: tuple[str, ...] = ()


class View:
    """A lazy selection of one split's images with a model version's predictions (the
    current one unless `.version(n)`): each method returns a new view; nothing is read until
    the view is iterated (`Sample`s), counted or exported.

    Filters combine (all must hold) and come before `skip` / `take`, which slice the filtered,
    sorted list. Classes are names or indexes."""

    def __init__(self, browser: Browser, masks: Masks, split: str, query: _Query | None = None):
        if query is None:
            browser.filter(split)  # an unknown split fails here (no query runs)
        self._browser, self._masks = browser, masks
        self._query = query or _Query(split)

    # ----- building ----------------------------------------------------------------------------

    def _then(self, step: str, **changes: Any) -> View:
        query = self._query
        if (query.offset or query.limit is not None) and set(changes) - {"offset", "limit"}:
            raise DataError(
                f"{step} after skip/take: a view filters and sorts first, then slices",
                "put filters and sort_by before skip and take",
            )
        changed = replace(query, **changes, steps=(*query.steps, step))
        return View(self._browser, self._masks, query.split, changed)

    def _where(self, step: str, **filters: Any) -> View:
        """Add filters; one that already holds another value would match nothing, so it is
        refused (start again from `ws.view(split)`)."""
        current = self._query.filters
        for name, value in filters.items():
            if current.get(name, value) != value:
                raise DataError(
                    f"{step} contradicts the view's {name}={current[name]!r}",
                    "start again from ws.view(split) with the filter you want",
                )
        return self._then(step, filters={**current, **filters})

    def _class(self, value: int | str) -> int:
        index = self._browser.class_index(value)
        assert index is not None  # a name or an index was given
        return index

    def label(self, cls: int | str) -> View:
        """Images whose true class is `cls`."""
        return self._where(f"label({cls!r})", label=self._class(cls))

    def predicted(self, cls: int | str) -> View:
        """Images the version predicts as `cls`."""
        return self._where(f"predicted({cls!r})", predicted=self._class(cls))

    def wrong(self) -> View:
        """Misclassified images (labelled, predicted, prediction != label)."""
        return self._where("wrong()", correct=False)

    def right(self) -> View:
        """Correctly classified images."""
        return self._where("right()", correct=True)

    def confidence(self, low: float | None = None, high: float | None = None) -> View:
        """Images whose predicted class has a probability in [low, high]; ranges intersect."""
        filters = self._query.filters
        lows = [v for v in (filters.get("min_confidence"), low) if v is not None]
        highs = [v for v in (filters.get("max_confidence"), high) if v is not None]
        return self._then(
            f"confidence({low!r}, {high!r})",
            filters={
                **filters,
                "min_confidence": max(lows) if lows else None,
                "max_confidence": min(highs) if highs else None,
            },
        )

    def annotated(self, kind: str = "spurious") -> View:
        """Images with a current, non-empty mask of `kind`."""
        return self._where(f"annotated({kind!r})", annotated=True, mask_kind=check_kind(kind))

    def not_annotated(self, kind: str = "spurious") -> View:
        """Images without a (non-empty) mask of `kind`."""
        return self._where(f"not_annotated({kind!r})", annotated=False, mask_kind=check_kind(kind))

    def suspicious(self) -> View:
        """Training images in the version's suspicious queue (the top `QUEUE_SIZE`); the
        queue is stored when an attribution index is built."""
        return self._where("suspicious()", suspicious=True)

    def flipped(self, versus: int, how: str = "changed") -> View:
        """Images whose prediction differs from version `versus`'s: `changed`, `fixed`
        (wrong there, right here) or `broken` (the reverse)."""
        return self._where(f"flipped({versus!r}, {how!r})", versus=versus, flip=how)

    def match_ids(self, ids: Collection[int]) -> View:
        """Only these images (a selection, not a whole split); repeated, the sets intersect."""
        chosen = {int(i) for i in ids}
        if (before := self._query.filters.get("ids")) is not None:
            chosen &= set(before)
        step = f"match_ids(<{len(chosen)} ids>)"
        return self._then(step, filters={**self._query.filters, "ids": tuple(sorted(chosen))})

    def version(self, version: int) -> View:
        """Predictions (and prediction filters and sorts) of model version `version`."""
        return self._then(f"version({version!r})", version=version)

    def sort_by(self, key: str, reverse: bool = False) -> View:
        """Sort by name, id, loss, confidence or suspicion (the queue's order); `reverse`:
        descending. Ties go by image id, so the order is total."""
        if key not in get_args(SortKey):
            raise DataError(
                f"unknown sort key {key!r}", f"use one of {', '.join(get_args(SortKey))}"
            )
        return self._then(f"sort_by({key!r}, reverse={reverse})", sort=key, descending=reverse)

    def skip(self, count: int) -> View:
        """Leave out the first `count` images."""
        limit = self._query.limit
        return self._then(
            f"skip({count})",
            offset=self._query.offset + _count(count),
            limit=None if limit is None else max(0, limit - count),
        )

    def take(self, count: int) -> View:
        """Keep the first `count` images (FiftyOne's `limit`; not a random sample)."""
        limit = self._query.limit
        chosen = _count(count) if limit is None else min(limit, _count(count))
        return self._then(f"take({count})", limit=chosen)

    def __repr__(self) -> str:
        return f"View({self._query.split!r})" + "".join(f".{s}" for s in self._query.steps)

    # ----- running -----------------------------------------------------------------------------

    def __iter__(self) -> Iterator[Sample]:
        """The samples in order, read a page of `PAGE` at a time."""
        offset, left = self._query.offset, self._query.limit
        while left is None or left > 0:
            size = PAGE if left is None else min(PAGE, left)
            q = self._query
            infos = self._browser.images(
                q.split,
                sort=q.sort,
                descending=q.descending,
                limit=size,
                offset=offset,
                version=q.version,
                **q.filters,
            )
            yield from self._browser.samples(infos)
            if len(infos) < size:
                return
            offset += size
            left = None if left is None else left - size

    def count(self) -> int:
        """How many images the view holds (one COUNT query)."""
        q = self._query
        total = self._browser.count(q.split, version=q.version, **q.filters)
        left = max(0, total - q.offset)
        return left if q.limit is None else min(left, q.limit)

    def __len__(self) -> int:
        return self.count()

    def ids(self) -> list[int]:
        """The image ids in order (an index-only query; no rows read)."""
        q = self._query
        page = (q.sort, q.descending, q.limit, q.offset)
        return self._browser.ids(q.split, page, q.version, **q.filters)

    def first(self) -> Sample:
        """The first sample; NotFoundError when the view is empty."""
        for sample in self.take(1):
            return sample
        raise NotFoundError(f"{self!r} is empty", "loosen its filters")

    def export(self, out: str | Path, format: str = "png", kind: str = "spurious") -> int:
        """Write the current `kind` masks of the view's images with the workspace's mask export
        (`ws.masks.export_to`); returns how many were written."""
        return self._masks.export_to(out, format, self.ids(), kind=kind, split=self._query.split)

    def to_pandas(self) -> pandas.DataFrame:
        """One row per sample: the `Sample` fields (path as a string), `annotated` as one
        boolean column per mask kind (`annotated_spurious`, `annotated_object`)."""
        try:
            import pandas
        except ImportError:
            raise DataError(
                "View.to_pandas() needs pandas, which is not installed",
                "pip install 'robustar[pandas]'",
            ) from None
        names = [f.name for f in fields(Sample) if f.name != "annotated"]
        columns = names + [f"annotated_{k}" for k in MASK_KINDS]
        rows = [
            [str(v) if n == "path" else v for n, v in ((n, getattr(s, n)) for n in names)]
            + [k in s.annotated for k in MASK_KINDS]
            for s in self
        ]
        return pandas.DataFrame(rows, columns=columns)


def _count(value: int) -> int:
    if value < 0:
        raise DataError(f"a count cannot be negative ({value})", "use 0 or more")
    return value
