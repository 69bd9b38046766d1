"""Who is asking, and may they: the role every route declares.

Each route depends on exactly one `require(role)` (or `PUBLIC`); tests/test_roles.py fails for
a route without one. In local mode everyone is the OS account with every right, as before team
mode. In team mode a request names its account with a session cookie (the page; a change
also needs the CSRF token bound to that session) or a personal API token (Bearer). The check
also sets the acting account, which the library records as the author of what the request
changes, and writes each successful change to the audit log.
"""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from robustar.accounts import Accounts, actor
from robustar.accounts.actor import Actor
from robustar.accounts.credentials import csrf_token
from robustar.accounts.users import Role, allows
from robustar.server.security import SAFE_METHODS
from robustar.server.team import CSRF_HEADER, SESSION_COOKIE

BEARER = HTTPBearer(
    auto_error=False,
    scheme_name="token",
    description="a personal API token (team mode): 'robustar users token DIR NAME' or "
    "POST /auth/tokens",
)
COOKIE = APIKeyCookie(
    name=SESSION_COOKIE,
    auto_error=False,
    scheme_name="session",
    description="the web page's session after POST /auth/login (team mode); changes also "
    f"send the CSRF token as {CSRF_HEADER}",
)


@dataclass(frozen=True)
class Principal:
    """The asking account; `user_id` None in local mode (the OS account, every right)."""

    name: str
    role: Role
    user_id: int | None = None

    @property
    def actor(self) -> Actor:
        return Actor(self.name, self.user_id)


LOCAL = Principal(actor.LOCAL.name, "admin")


def _refuse(status: int, detail: str, fix: str) -> HTTPException:
    return HTTPException(status, {"detail": detail, "fix": fix})


async def identify(request: Request, bearer: str | None, session: str | None) -> Principal | None:
    """The account behind the request's credentials; None: anonymous (team mode)."""
    if not request.app.state.team:
        return LOCAL
    accounts: Accounts = request.app.state.workspace.accounts
    if bearer is not None:
        user = await run_in_threadpool(accounts.resolve, bearer, "token")
        if user is None:
            raise _refuse(
                401,
                "the API token is not valid: revoked, or its account disabled",
                "make a new token (robustar users token DIR NAME) or ask an admin",
            )
    elif session is not None:
        user = await run_in_threadpool(accounts.resolve, session, "session")
        if user is None:
            return None
        sent = request.headers.get(CSRF_HEADER, "")
        if request.method not in SAFE_METHODS and not hmac.compare_digest(
            sent.encode(), csrf_token(session).encode()
        ):
            raise _refuse(
                403,
                "the change carries no valid CSRF token",
                f"send the {CSRF_HEADER} header with the value of the robustar_csrf cookie "
                "(the page does); scripts use an API token instead",
            )
    else:
        return None
    return Principal(user.name, user.role, user.id)


class RoleCheck:
    """The dependency `require(role)` returns; `role` None: anyone, signed in or not."""

    def __init__(self, role: Role | None) -> None:
        self.role = role

    async def __call__(
        self,
        request: Request,
        bearer: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)],
        session: Annotated[str | None, Security(COOKIE)],
    ) -> AsyncIterator[Principal | None]:
        principal = await identify(request, None if bearer is None else bearer.credentials, session)
        if self.role is not None:
            if principal is None:
                raise _refuse(401, "sign in first", "sign in on the page, or send an API token")
            if not allows(principal.role, self.role):
                raise _refuse(
                    403,
                    f"this needs the {self.role} role; {principal.name} is {principal.role}",
                    "ask an admin for the role (robustar users set-role)",
                )
        if principal is not None:
            actor.set_current(principal.actor)  # the endpoint's thread copies this context
        yield principal
        if principal is not None and request.method not in SAFE_METHODS:
            await run_in_threadpool(_audit, request, principal)


def _audit(request: Request, principal: Principal) -> None:
    """The change just made: the route's name and the request's path (never its body).
    Account changes are not: `Accounts` records them itself, in its words."""
    route = request.scope.get("route")
    if "accounts" in getattr(route, "tags", ()):
        return
    action = getattr(route, "name", None) or request.method
    accounts: Accounts = request.app.state.workspace.accounts
    with actor.acting_as(principal.actor):
        accounts.record(action, f"{request.method} {request.url.path}")


_CHECKS: dict[Role | None, RoleCheck] = {
    role: RoleCheck(role) for role in (None, "viewer", "annotator", "admin")
}


def require(role: Role | None) -> RoleCheck:
    """One check per role, so that a route naming it twice (its dependencies and a parameter
    that reads the principal) runs it once."""
    return _CHECKS[role]


PUBLIC = [Depends(require(None))]
# a public route's openapi_extra: FastAPI appends it to the schemes, "or none at all"
OPTIONAL_CREDENTIALS: dict[str, Any] = {"security": [{}]}
VIEWER = [Depends(require("viewer"))]
ANNOTATOR = [Depends(require("annotator"))]
ADMIN = [Depends(require("admin"))]
AnyoneDep = Annotated[Principal | None, Depends(require(None))]
ViewerDep = Annotated[Principal, Depends(require("viewer"))]
AnnotatorDep = Annotated[Principal, Depends(require("annotator"))]
AdminDep = Annotated[Principal, Depends(require("admin"))]


def declared_roles(app: FastAPI) -> dict[tuple[str, str], list[Role | None]]:
    """(method, path) of every API route → the roles its checks require (exactly one each,
    tests/test_roles.py asserts; None: public)."""
    found: dict[tuple[str, str], list[Role | None]] = {}
    for route in _api_routes(app.routes):
        checks = {d.call for d in _walk(route.dependant) if isinstance(d.call, RoleCheck)}
        for method in route.methods:
            found[(method, route.path)] = [c.role for c in checks]
    return found


def _api_routes(routes: list[Any]) -> Iterator[Any]:
    """APIRoutes, flattened (FastAPI keeps included routers as branches since 0.13x)."""
    for route in routes:
        if hasattr(route, "effective_route_contexts"):
            yield from route.effective_route_contexts()
        elif isinstance(route, APIRoute):
            yield route


def _walk(dependant: Dependant) -> Iterator[Dependant]:
    for child in dependant.dependencies:
        yield child
        yield from _walk(child)
