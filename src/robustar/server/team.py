"""Team mode's conditions to start, and its cookies (see README 'Team mode')."""

from __future__ import annotations

import os

from fastapi import Response

from robustar.accounts import Accounts
from robustar.accounts.credentials import SESSION_LIFETIME, csrf_token
from robustar.config import ServerConfig
from robustar.errors import ConfigError
from robustar.server.security import TOKEN_ENV

SESSION_COOKIE = "robustar_session"  # HttpOnly: the page's scripts never see it
CSRF_COOKIE = "robustar_csrf"  # readable: the page sends it back as the CSRF_HEADER
CSRF_HEADER = "x-csrf-token"


def refusals(settings: ServerConfig, accounts: Accounts) -> list[str]:
    """Why team mode may not start with these settings: each reason with its fix."""
    found = []
    if accounts.admins() == 0:
        found.append("there is no enabled admin account: robustar users add DIR NAME --role admin")
    if not settings.allowed_hosts:
        found.append("[server] allowed_hosts is empty: list the names the team opens the server by")
    if (settings.tls_certfile is None) != (settings.tls_keyfile is None):
        found.append("give both [server] tls_certfile and tls_keyfile, or neither")
    elif not (settings.tls_certfile or settings.trusted_proxies or settings.insecure_http):
        found.append(
            "no TLS: set [server] tls_certfile and tls_keyfile, or trusted_proxies (a "
            "reverse proxy that serves HTTPS), or serve with --insecure-http on a trusted LAN"
        )
    if settings.token is not None or os.environ.get(TOKEN_ENV):
        found.append(
            f"[server] token or {TOKEN_ENV} is set: team mode uses personal API tokens "
            "(robustar users token); remove the shared one"
        )
    return found


def check(settings: ServerConfig, accounts: Accounts) -> None:
    problems = refusals(settings, accounts)
    if problems:
        raise ConfigError(
            "team mode cannot start:\n  - " + "\n  - ".join(problems),
            "fix the items above (README.md, 'Team mode')",
        )


def set_session_cookies(response: Response, secret: str, secure: bool) -> None:
    age = int(SESSION_LIFETIME.total_seconds())
    response.set_cookie(
        SESSION_COOKIE, secret, max_age=age, httponly=True, secure=secure, samesite="strict"
    )
    response.set_cookie(
        CSRF_COOKIE, csrf_token(secret), max_age=age, secure=secure, samesite="strict"
    )


def clear_session_cookies(response: Response, secure: bool) -> None:
    for name in (SESSION_COOKIE, CSRF_COOKIE):
        response.delete_cookie(name, secure=secure, httponly=name == SESSION_COOKIE)
