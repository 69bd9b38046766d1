"""The audit log: every state change, who made it and when (admins read it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from robustar.accounts.actor import Actor
from robustar.db.tables import AuditEntry


@dataclass(frozen=True)
class AuditInfo:
    id: int
    at: datetime
    actor: str
    account: bool  # False: an operating-system account name (local mode, the CLI)
    action: str
    target: str


def record(session: Session, actor: Actor, action: str, target: str = "") -> None:
    session.add(
        AuditEntry(actor=actor.name, user_id=actor.user_id, action=action, target=target[:1024])
    )


def entries(
    session: Session, limit: int = 100, offset: int = 0, actor: str | None = None
) -> tuple[int, list[AuditInfo]]:
    """Newest first: the total and one page."""
    query = select(AuditEntry)
    if actor is not None:
        query = query.where(AuditEntry.actor == actor)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit).offset(offset))
    return int(total), [
        AuditInfo(r.id, r.at, r.actor, r.user_id is not None, r.action, r.target) for r in rows
    ]
