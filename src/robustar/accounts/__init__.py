"""Team mode's accounts (`Workspace.accounts`): users and roles, sessions and API tokens,
and the audit log. Local mode uses none of it but the audit log."""

from __future__ import annotations

from robustar.accounts import audit, credentials, users
from robustar.accounts.actor import Actor, current
from robustar.accounts.audit import AuditInfo
from robustar.accounts.credentials import Kind, TokenInfo
from robustar.accounts.users import Role, UserInfo
from robustar.db.session import Database

__all__ = ["Accounts", "Actor", "AuditInfo", "Role", "TokenInfo", "UserInfo"]


class Accounts:
    """Each call is one short transaction; every change is written to the audit log."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # ----- accounts --------------------------------------------------------------------------

    def users(self) -> list[UserInfo]:
        with self._db.session() as session:
            rows = session.scalars(users.select_all())
            return [users.to_info(r) for r in rows]

    def user(self, name: str) -> UserInfo:
        with self._db.session() as session:
            return users.to_info(users.get_user(session, name))

    def admins(self) -> int:
        """Enabled admin accounts: team mode needs one."""
        return sum(1 for u in self.users() if u.role == "admin" and not u.disabled)

    def add(self, name: str, role: str, password: str) -> UserInfo:
        with self._db.session() as session:
            row = users.add_user(session, name, role, password)
            audit.record(session, current(), "add user", f"{name} ({role})")
            return users.to_info(row)

    def set_role(self, name: str, role: str) -> UserInfo:
        with self._db.session() as session:
            row = users.get_user(session, name)
            was_admin = users.active_admin(row)
            row.role = users.check_role(role)
            if was_admin:
                users.keep_an_admin(session, name)
            audit.record(session, current(), "set role", f"{name}: {role}")
            return users.to_info(row)

    def set_disabled(self, name: str, disabled: bool = True) -> UserInfo:
        """Disabling ends the account's sessions and tokens at once."""
        with self._db.session() as session:
            row = users.get_user(session, name)
            was_admin = users.active_admin(row)
            row.disabled = disabled
            if was_admin:
                users.keep_an_admin(session, name)
            if disabled:
                credentials.end_all(session, row.id)
            audit.record(session, current(), "disable user" if disabled else "enable user", name)
            return users.to_info(row)

    def set_password(self, name: str, password: str) -> UserInfo:
        """A new password ends the account's sessions (not its API tokens)."""
        with self._db.session() as session:
            row = users.get_user(session, name)
            users.set_password(row, password)
            credentials.end_sessions(session, row.id)
            audit.record(session, current(), "set password", name)
            return users.to_info(row)

    # ----- signing in ------------------------------------------------------------------------

    def login(self, name: str, password: str) -> tuple[UserInfo, str] | None:
        """A new session's secret for the right name and password of an enabled account."""
        with self._db.session() as session:
            row = users.verify(session, name, password)
            if row is None:
                return None
            secret = credentials.issue(session, row, "session")[1]
            audit.record(session, Actor(row.name, row.id), "log in")
            return users.to_info(row), secret

    def logout(self, secret: str) -> None:
        with self._db.session() as session:
            credentials.end_session(session, secret)

    def resolve(self, secret: str, kind: Kind) -> UserInfo | None:
        """The enabled account of a live session or token secret."""
        with self._db.session() as session:
            row = credentials.resolve(session, secret, kind)
            return None if row is None else users.to_info(row)

    # ----- personal API tokens ---------------------------------------------------------------

    def new_token(self, name: str, label: str = "") -> tuple[TokenInfo, str]:
        """A token for `name`'s scripts, and its secret: shown once, stored hashed."""
        with self._db.session() as session:
            row = users.get_user(session, name)
            made = credentials.issue(session, row, "token", label)
            audit.record(session, current(), "create token", f"{name}: {label}")
            return made

    def tokens(self, name: str) -> list[TokenInfo]:
        with self._db.session() as session:
            return credentials.tokens(session, users.get_user(session, name).id)

    def revoke_token(self, name: str, token_id: int) -> None:
        with self._db.session() as session:
            credentials.revoke_token(session, users.get_user(session, name).id, token_id)
            audit.record(session, current(), "revoke token", f"{name}: {token_id}")

    # ----- audit log -------------------------------------------------------------------------

    def record(self, action: str, target: str = "") -> None:
        with self._db.session() as session:
            audit.record(session, current(), action, target)

    def audit(
        self, limit: int = 100, offset: int = 0, actor: str | None = None
    ) -> tuple[int, list[AuditInfo]]:
        with self._db.session() as session:
            return audit.entries(session, limit, offset, actor)
