"""Login sessions (a cookie) and personal API tokens (a Bearer header): random secrets of
which only the SHA-256 is stored (a secret of 256 random bits needs no slow hash, unlike a
password). Each use looks the secret up with its account, so a disabled account, a revoked
token or a logged-out session stops working at the next request."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from robustar.db.tables import Credential, User, utcnow
from robustar.errors import NotFoundError

Kind = Literal["session", "token"]
SESSION_LIFETIME = timedelta(hours=12)
TOKEN_PREFIX = "rbt_"  # tells a token apart in a script or a secret scanner


@dataclass(frozen=True)
class TokenInfo:
    """A personal API token as listed: never its secret."""

    id: int
    label: str
    created_at: datetime


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def csrf_token(session_secret: str) -> str:
    """The page's anti-forgery token, derived from (bound to) its session: nothing to store,
    and another session's token never fits."""
    return hmac.new(session_secret.encode(), b"robustar csrf", hashlib.sha256).hexdigest()


def issue(session: Session, user: User, kind: Kind, label: str = "") -> tuple[TokenInfo, str]:
    """A new secret for `user`; returned once, stored only as its digest."""
    secret = (TOKEN_PREFIX if kind == "token" else "") + secrets.token_urlsafe(32)
    expires = utcnow() + SESSION_LIFETIME if kind == "session" else None
    row = Credential(
        user_id=user.id, kind=kind, label=label, secret_hash=digest(secret), expires_at=expires
    )
    session.add(row)
    session.flush()
    return TokenInfo(row.id, row.label, row.created_at), secret


def resolve(session: Session, secret: str, kind: Kind) -> User | None:
    """The enabled account this live secret belongs to, else None."""
    row = session.execute(
        select(Credential, User)
        .join(User, User.id == Credential.user_id)
        .where(Credential.secret_hash == digest(secret), Credential.kind == kind)
    ).first()
    if row is None:
        return None
    credential, user = row
    if user.disabled or (credential.expires_at is not None and credential.expires_at < utcnow()):
        return None
    return user


def end_session(session: Session, secret: str) -> None:
    session.execute(
        delete(Credential).where(
            Credential.secret_hash == digest(secret), Credential.kind == "session"
        )
    )


def tokens(session: Session, user_id: int) -> list[TokenInfo]:
    rows = session.scalars(
        select(Credential)
        .where(Credential.user_id == user_id, Credential.kind == "token")
        .order_by(Credential.id)
    )
    return [TokenInfo(r.id, r.label, r.created_at) for r in rows]


def revoke_token(session: Session, user_id: int, token_id: int) -> None:
    gone = session.execute(
        delete(Credential).where(
            Credential.id == token_id, Credential.user_id == user_id, Credential.kind == "token"
        )
    )
    if gone.rowcount == 0:  # type: ignore[attr-defined]
        raise NotFoundError(f"there is no token {token_id} of this account", "list your tokens")


def end_sessions(session: Session, user_id: int) -> None:
    session.execute(
        delete(Credential).where(Credential.user_id == user_id, Credential.kind == "session")
    )


def end_all(session: Session, user_id: int) -> None:
    """Every session and token of the account (it was disabled, or its password changed)."""
    session.execute(delete(Credential).where(Credential.user_id == user_id))
