"""Who is acting: the author every change records. The server sets it per request to the
signed-in account; everywhere else (local mode, the CLI, Python) it is the OS account."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """`user_id` None: `name` is an operating-system account name, not a team account."""

    name: str
    user_id: int | None = None


LOCAL = Actor(getpass.getuser() or "local")
_current: ContextVar[Actor] = ContextVar("robustar_actor", default=LOCAL)


def current() -> Actor:
    return _current.get()


def set_current(actor: Actor) -> None:
    """For the rest of this context (a request, with what it runs in threads)."""
    _current.set(actor)


@contextmanager
def acting_as(actor: Actor) -> Iterator[Actor]:
    token = _current.set(actor)
    try:
        yield actor
    finally:
        _current.reset(token)
