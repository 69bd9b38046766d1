"""Signing in and out (team mode), who am I, and personal API tokens for scripts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel, Field

from robustar.accounts import TokenInfo
from robustar.accounts.users import Role
from robustar.errors import DataError
from robustar.server import schemas, team
from robustar.server.auth import OPTIONAL_CREDENTIALS, PUBLIC, AnyoneDep, Principal, ViewerDep
from robustar.server.deps import WorkspaceDep
from robustar.server.limiter import Limiter
from robustar.server.params import Id

router = APIRouter(prefix="/auth", tags=["accounts"])
TOO_MANY: dict[int | str, dict[str, Any]] = {
    429: {"model": schemas.ErrorBody, "description": "too many failed sign-ins: wait"}
}


class LoginRequest(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class Me(BaseModel):
    """Who the page is: in local mode the OS account (admin), in team mode the signed-in
    account, or no one (name and role null)."""

    team: bool
    name: str | None
    role: Role | None


class TokenRequest(BaseModel):
    label: str = Field("", max_length=200, description="what the token is for")


class NewToken(BaseModel):
    """The token itself appears only in this answer; it is stored hashed."""

    id: int
    label: str
    created_at: datetime
    token: str


class LoginLimits:
    """Failed sign-ins per account (5 in 5 minutes) and per client address (20)."""

    def __init__(self) -> None:
        self.account = Limiter(5, 300)
        self.address = Limiter(20, 300)


def _me(request: Request, principal: Principal | None) -> Me:
    if principal is None:
        return Me(team=request.app.state.team, name=None, role=None)
    return Me(team=request.app.state.team, name=principal.name, role=principal.role)


def _team_only(request: Request) -> None:
    if not request.app.state.team:
        raise DataError(
            "this server runs in local mode: there are no accounts to sign in to",
            "serve with --team (README.md, 'Team mode')",
        )


@router.get("/me", response_model=Me, dependencies=PUBLIC, openapi_extra=OPTIONAL_CREDENTIALS)
def me(request: Request, principal: AnyoneDep) -> Me:
    return _me(request, principal)


@router.post(
    "/login",
    response_model=Me,
    dependencies=PUBLIC,
    openapi_extra=OPTIONAL_CREDENTIALS,
    responses=TOO_MANY,
)
def login(request: Request, response: Response, workspace: WorkspaceDep, body: LoginRequest) -> Me:
    """Start a session: sets the HttpOnly session cookie and the CSRF cookie, whose value
    every change sends back as the X-CSRF-Token header."""
    _team_only(request)
    limits: LoginLimits = request.app.state.login_limits
    name = body.name.strip().lower()
    tries = [
        (limits.account, name),
        (limits.address, request.client.host if request.client else ""),
    ]
    wait = max(limit.retry_after(key) for limit, key in tries)
    if wait:
        raise HTTPException(
            429,
            {"detail": "too many failed sign-ins", "fix": f"wait {wait} s and try again"},
            headers={"Retry-After": str(wait)},
        )
    found = workspace.accounts.login(name, body.password)
    if found is None:
        for limit, key in tries:
            limit.failed(key)
        raise HTTPException(
            401,
            {"detail": "wrong name or password", "fix": "check both, or ask an admin"},
        )
    limits.account.clear(name)
    user, secret = found
    team.set_session_cookies(response, secret, secure=not workspace.config.server.insecure_http)
    return Me(team=True, name=user.name, role=user.role)


@router.post("/logout", status_code=204, dependencies=PUBLIC, openapi_extra=OPTIONAL_CREDENTIALS)
def logout(request: Request, response: Response, workspace: WorkspaceDep) -> Response:
    """End this session (its cookie stops working everywhere at once)."""
    secret = request.cookies.get(team.SESSION_COOKIE)
    if secret:
        workspace.accounts.logout(secret)
    team.clear_session_cookies(response, secure=not workspace.config.server.insecure_http)
    response.status_code = 204
    return response


def _account(request: Request, principal: Principal) -> str:
    _team_only(request)
    return principal.name


@router.get("/tokens", response_model=list[TokenInfo])
def tokens(request: Request, workspace: WorkspaceDep, principal: ViewerDep) -> list[TokenInfo]:
    """Your personal API tokens (never their secrets)."""
    return workspace.accounts.tokens(_account(request, principal))


@router.post("/tokens", response_model=NewToken, status_code=201)
def new_token(
    request: Request, workspace: WorkspaceDep, principal: ViewerDep, body: TokenRequest
) -> NewToken:
    """A token for your scripts, sent as 'Authorization: Bearer <token>'; it has your role."""
    info, secret = workspace.accounts.new_token(_account(request, principal), body.label)
    return NewToken(id=info.id, label=info.label, created_at=info.created_at, token=secret)


@router.delete("/tokens/{token_id}", status_code=204)
def revoke_token(
    request: Request, workspace: WorkspaceDep, principal: ViewerDep, token_id: Id
) -> Response:
    workspace.accounts.revoke_token(_account(request, principal), token_id)
    return Response(status_code=204)
