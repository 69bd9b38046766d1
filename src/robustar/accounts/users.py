"""Team accounts: names, roles, argon2 password hashes (pwdlib), disabling."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import Select, false, func, select
from sqlalchemy.orm import Session

from robustar.db.tables import User
from robustar.errors import DataError, NotFoundError

Role = Literal["viewer", "annotator", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)  # in rising order: each may do what those before may
MIN_PASSWORD = 10
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_HASHER = PasswordHash((Argon2Hasher(),))
# verified against when the name is unknown, so that a miss takes as long as a wrong password
_DUMMY_HASH = _HASHER.hash("robustar: no such account")


@dataclass(frozen=True)
class UserInfo:
    id: int
    name: str
    role: Role
    disabled: bool
    created_at: datetime


def to_info(row: User) -> UserInfo:
    return UserInfo(row.id, row.name, check_role(row.role), row.disabled, row.created_at)


def check_role(role: str) -> Role:
    if role not in ROLES:
        raise DataError(f"{role!r} is not a role", f"use one of {', '.join(ROLES)}")
    return role


def allows(role: Role, needed: Role) -> bool:
    return ROLES.index(role) >= ROLES.index(needed)


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise DataError(
            f"the password is {len(password)} characters long; use at least {MIN_PASSWORD}",
            "choose a longer password (a passphrase of a few words is easy to remember)",
        )
    return password


def select_all() -> Select[User]:
    return select(User).order_by(User.id)


def get_user(session: Session, name: str) -> User:
    row = session.scalar(select(User).where(User.name == name))
    if row is None:
        raise NotFoundError(
            f"there is no account {name!r}",
            "list the accounts with 'robustar users list DIR'",
            "list the accounts with ws.accounts.users()",
        )
    return row


def add_user(session: Session, name: str, role: str, password: str) -> User:
    if not _NAME.match(name):
        raise DataError(
            f"{name!r} is not an account name",
            "use up to 64 lower-case letters, digits, '.', '_' or '-', starting with a letter "
            "or digit",
        )
    if session.scalar(select(User.id).where(User.name == name)) is not None:
        raise DataError(f"the account {name!r} exists already", "choose another name")
    row = User(
        name=name,
        role=check_role(role),
        password_hash=_HASHER.hash(check_password(password)),
        disabled=False,
    )
    session.add(row)
    session.flush()
    return row


def active_admin(row: User) -> bool:
    return row.role == "admin" and not row.disabled


def keep_an_admin(session: Session, changed: str) -> None:
    """Refuse a change that leaves no enabled admin (nobody could manage accounts then)."""
    session.flush()
    left = session.scalar(
        select(func.count()).where(User.role == "admin", User.disabled == false())
    )
    if not left:
        raise DataError(
            f"{changed} is the last enabled admin",
            "make another account admin first (robustar users set-role DIR NAME admin)",
        )


def set_password(row: User, password: str) -> None:
    row.password_hash = _HASHER.hash(check_password(password))


def verify(session: Session, name: str, password: str) -> User | None:
    """The enabled account with this name and password, else None (same time either way)."""
    row = session.scalar(select(User).where(User.name == name))
    valid, new_hash = _HASHER.verify_and_update(
        password, _DUMMY_HASH if row is None else row.password_hash
    )
    if row is None or not valid or row.disabled:
        return None
    if new_hash is not None:  # the hasher's parameters have grown since: rehash
        row.password_hash = new_hash
    return row
