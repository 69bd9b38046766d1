"""`Workspace.assignments`: work per person (team mode). An admin gives images to an account
to mask; each account works through its queue. An assignment is done once a mask of its kind
is saved after it was made, by anyone: computed from the masks table, never stored, so every
way a mask is saved (the page, restore, import, a reviewed proposal, Python) counts."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, delete, func, insert, select
from sqlalchemy.orm import Session

from robustar.accounts import actor
from robustar.accounts.users import allows, check_role, get_user
from robustar.annotations.selection import Selection, SuspiciousQueue, chunks, resolve
from robustar.data.images import ImageStore
from robustar.db.kinds import check_kind
from robustar.db.tables import Assignment, Image, Mask, User, utcnow
from robustar.errors import DataError

__all__ = ["Assigned", "AssignmentInfo", "Assignments", "BatchProgress", "PersonProgress"]


@dataclass(frozen=True)
class Assigned:
    """What one `assign` did: `moved` of the images were someone else's before."""

    assignee: str
    kind: str
    batch: str
    images: int
    moved: int


@dataclass(frozen=True)
class AssignmentInfo:
    image_id: int
    split: str
    class_name: str | None
    kind: str
    assignee: str
    batch: str
    assigned_by: str
    created_at: datetime
    done_at: datetime | None  # the first save of a mask of `kind` after `created_at`


@dataclass(frozen=True)
class BatchProgress:
    """One assignment batch of one account: how many of its images are done."""

    assignee: str
    kind: str
    batch: str
    assigned_at: datetime
    assigned: int
    done: int


@dataclass(frozen=True)
class PersonProgress:
    """An account that may annotate: its assignments, how many are done, its last save."""

    name: str
    role: str
    assigned: int
    done: int
    last_activity: datetime | None


class Assignments:
    def __init__(self, images: ImageStore, queue: SuspiciousQueue) -> None:
        self._images = images
        self._db = images.db
        self._queue = queue

    def assign(self, to: str, selection: Selection, kind: str = "spurious") -> Assigned:
        """Give the selected images to account `to`; an image assigned before (for the same
        kind) moves to `to` and starts anew. Nothing is stored unless all of it is valid."""
        kind = check_kind(kind)
        by = actor.current().name
        with self._db.session() as session:
            user = _annotator(session, to)
            ids, batch = resolve(session, self._images, self._queue, selection, kind)
            before = _holders(session, ids, kind)
            for chunk in chunks(list(before)):  # moved: made anew, at the end of the queue
                session.execute(
                    delete(Assignment).where(
                        Assignment.kind == kind, Assignment.image_id.in_(chunk)
                    )
                )
            now = utcnow()
            rows = [
                {"image_id": i, "kind": kind, "user_id": user.id, "batch": batch}
                | {"assigned_by": by, "created_at": now}
                for i in ids
            ]
            session.execute(insert(Assignment), rows)
            moved = sum(1 for holder in before.values() if holder != user.id)
            return Assigned(user.name, kind, batch, len(ids), moved)

    def entries(
        self, user: str | None = None, open_only: bool = False, kind: str | None = None
    ) -> list[AssignmentInfo]:
        """Assignments in the order they were made (a queue in its order); `open_only`: those
        not done yet."""
        with self._db.session() as session:
            query = _listing()
            if user is not None:
                query = query.where(Assignment.user_id == get_user(session, user).id)
            if kind is not None:
                query = query.where(Assignment.kind == check_kind(kind))
            found = [self._info(*row) for row in session.execute(query)]
        return [a for a in found if a.done_at is None] if open_only else found

    def queue(self, user: str) -> list[AssignmentInfo]:
        """`user`'s images still to mask, in the order they were assigned."""
        return self.entries(user, open_only=True)

    def batches(self, user: str | None = None) -> list[BatchProgress]:
        """Done / assigned per batch (and account), oldest batch first."""
        groups: dict[tuple[str, str, str], list[AssignmentInfo]] = defaultdict(list)
        for a in self.entries(user):
            groups[(a.assignee, a.kind, a.batch)].append(a)
        return [
            BatchProgress(
                who,
                kind,
                batch,
                min(a.created_at for a in items),
                len(items),
                sum(a.done_at is not None for a in items),
            )
            for (who, kind, batch), items in groups.items()
        ]

    def people(self) -> list[PersonProgress]:
        """Every enabled account that may annotate, and anyone holding assignments."""
        mine: dict[str, list[AssignmentInfo]] = defaultdict(list)
        for a in self.entries():
            mine[a.assignee].append(a)
        with self._db.session() as session:
            last = dict(
                session.execute(
                    select(Mask.user_id, func.max(Mask.created_at)).group_by(Mask.user_id)
                ).all()
            )
            accounts = session.scalars(select(User).order_by(User.id)).all()
            return [
                PersonProgress(
                    u.name,
                    u.role,
                    len(mine[u.name]),
                    sum(a.done_at is not None for a in mine[u.name]),
                    last.get(u.id),
                )
                for u in accounts
                if mine[u.name] or (not u.disabled and u.role == "annotator")
            ]

    def _info(
        self, a: Assignment, assignee: str, split: str, label: int | None, done_at: datetime | None
    ) -> AssignmentInfo:
        name = None if label is None else self._images.classes[label]
        return AssignmentInfo(
            a.image_id, split, name, a.kind, assignee, a.batch, a.assigned_by, a.created_at, done_at
        )


def _annotator(session: Session, name: str) -> User:
    """The account to assign to: it exists, is enabled and may save masks."""
    user = get_user(session, name)
    if user.disabled:
        raise DataError(
            f"the account {name!r} is disabled",
            f"enable it (robustar users enable DIR {name}) or assign to another account",
        )
    if not allows(check_role(user.role), "annotator"):
        raise DataError(
            f"{name} is a {user.role} and cannot annotate",
            f"make {name} an annotator (robustar users set-role DIR {name} annotator) or "
            "assign to another account",
        )
    return user


def _holders(session: Session, ids: list[int], kind: str) -> dict[int, int]:
    """image id → the account it is assigned to now (for `kind`)."""
    found: dict[int, int] = {}
    for chunk in chunks(ids):
        rows = session.execute(
            select(Assignment.image_id, Assignment.user_id).where(
                Assignment.kind == kind, Assignment.image_id.in_(chunk)
            )
        )
        found.update({i: u for i, u in rows})
    return found


def _listing() -> Select[Assignment, str, str, int | None, datetime]:
    done_at = (
        select(func.min(Mask.created_at))
        .where(
            Mask.image_id == Assignment.image_id,
            Mask.kind == Assignment.kind,
            Mask.created_at >= Assignment.created_at,
        )
        .correlate(Assignment)
        .scalar_subquery()
    )
    return (
        select(Assignment, User.name, Image.split, Image.label, done_at)
        .join(User, User.id == Assignment.user_id)
        .join(Image, Image.id == Assignment.image_id)
        .order_by(Assignment.id)
    )
