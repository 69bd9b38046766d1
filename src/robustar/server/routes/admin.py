"""Accounts and the audit log: admins only."""

from __future__ import annotations

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from robustar.accounts import AuditInfo, UserInfo
from robustar.accounts.users import MIN_PASSWORD, Role
from robustar.server.auth import ADMIN
from robustar.server.deps import WorkspaceDep
from robustar.server.params import MAX_ID

router = APIRouter(tags=["accounts"], dependencies=ADMIN)


class NewUser(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    role: Role
    password: str = Field(min_length=MIN_PASSWORD, max_length=1024)


class UserChange(BaseModel):
    """Only what is given changes."""

    role: Role | None = None
    disabled: bool | None = Field(None, strict=True, description="disabling ends its sessions")
    password: str | None = Field(None, min_length=MIN_PASSWORD, max_length=1024)


class AuditPage(BaseModel):
    total: int
    items: list[AuditInfo]


@router.get("/users", response_model=list[UserInfo])
def list_users(workspace: WorkspaceDep) -> list[UserInfo]:
    return workspace.accounts.users()


@router.post("/users", response_model=UserInfo, status_code=201)
def add_user(workspace: WorkspaceDep, body: NewUser) -> UserInfo:
    return workspace.accounts.add(body.name, body.role, body.password)


@router.patch("/users/{name}", response_model=UserInfo)
def change_user(
    workspace: WorkspaceDep, body: UserChange, name: str = Path(max_length=64)
) -> UserInfo:
    """Role, enabled or disabled, password; none may leave the team without an admin."""
    accounts = workspace.accounts
    user = accounts.user(name)
    if body.password is not None:
        user = accounts.set_password(name, body.password)
    if body.role is not None:
        user = accounts.set_role(name, body.role)
    if body.disabled is not None:
        user = accounts.set_disabled(name, body.disabled)
    return user


@router.get("/audit", response_model=AuditPage)
def audit(
    workspace: WorkspaceDep,
    actor: str | None = Query(None, max_length=200, description="only this account's"),
    page: int = Query(1, ge=1, le=MAX_ID // 500),
    page_size: int = Query(100, ge=1, le=500),
) -> AuditPage:
    """State changes, newest first: who (an account, or an OS account name), what, when."""
    total, items = workspace.accounts.audit(page_size, (page - 1) * page_size, actor)
    return AuditPage(total=total, items=items)
