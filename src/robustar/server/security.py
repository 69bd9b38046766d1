"""The server's front door, one ASGI middleware in front of every route:

- the Host header must name this server (a DNS-rebinding page reaches 127.0.0.1 under its own
  name, so its requests carry a foreign Host);
- a request that changes something (POST, PUT, PATCH, DELETE) must come from the server's own
  page (Sec-Fetch-Site or Origin) or carry the configured Bearer token (cross-site request
  forgery: a content type is no defence, a form or `no-cors` fetch may send any body);
- request bodies are bounded: 1 MiB, mask PNGs their own bound, uploads what their route allows.

Browsers always send Sec-Fetch-Site or Origin with a state-changing request, so a request with
neither comes from a program (curl, Python, tests); it passes while no token is configured.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers

from robustar.annotations.maskfile import MAX_MASK_BYTES
from robustar.config import ServerConfig
from robustar.errors import ConfigError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_JSON_BYTES = 1 << 20
TOKEN_ENV = "ROBUSTAR_TOKEN"
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_BODY_LIMIT = "robustar.body_limit"  # scope key an upload route sets before it reads


class BodyTooLarge(HTTPException):
    """Raised while reading a body past its bound; FastAPI re-raises it from body parsing."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")
        self.limit = limit


def install(app: FastAPI, settings: ServerConfig) -> None:
    """Put the checks in front of `app` with the workspace's [server] settings."""
    # team mode: personal tokens, checked per route (robustar.server.auth), not a shared one
    token = None if settings.team else server_token(settings)
    app.add_middleware(Guard, settings=settings, token=token)
    app.add_exception_handler(BodyTooLarge, _too_large)


def server_token(settings: ServerConfig) -> str | None:
    """The Bearer token: env ROBUSTAR_TOKEN, else [server] token, else none."""
    token = os.environ.get(TOKEN_ENV) or settings.token
    if token is not None and len(token) < 16:
        raise ConfigError(
            f"{TOKEN_ENV} is {len(token)} characters long; a token needs at least 16",
            'make one with: python -c "import secrets; print(secrets.token_urlsafe())"',
        )
    return token


def allow_body(request: Request, limit: int) -> None:
    """Let this request's body grow to `limit` bytes; an upload route calls it before reading."""
    request.scope[_BODY_LIMIT] = limit


def _too_large(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, BodyTooLarge)
    return _refusal(
        413,
        str(error.detail),
        "send less: JSON bodies are bounded at 1 MiB, mask PNGs at "
        f"{MAX_MASK_BYTES >> 20} MiB, model uploads by [server] max_upload_mb",
    )


def _refusal(status: int, detail: str, fix: str) -> JSONResponse:
    return JSONResponse({"detail": detail, "fix": fix}, status_code=status)


def host_name(value: str) -> str:
    """'Example.org:8000' → 'example.org'; '[::1]:8000' → '::1'."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    return value.rpartition(":")[0] if ":" in value else value


class Guard:
    """The Host, same-origin / token and body-size checks, as a plain ASGI middleware (so that
    streaming responses such as the job events pass through untouched)."""

    def __init__(self, app: ASGIApp, settings: ServerConfig, token: str | None) -> None:
        self.app = app
        self.token = token
        bound = settings.host.strip("[]").lower()
        named = {h.strip("[]") for h in settings.allowed_hosts}
        self.hosts = LOCAL_HOSTS | named | ({bound} if bound not in ("0.0.0.0", "::") else set())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        refusal = self._check_host(scope, headers) or self._check_origin(scope, headers)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await self.app(scope, _bounded(scope, headers, receive), send)

    def _check_host(self, scope: Scope, headers: Headers) -> JSONResponse | None:
        host = headers.get("host", "")
        server = scope.get("server")
        # the address this connection reached (uvicorn: the socket's own address)
        allowed = self.hosts | ({str(server[0]).lower()} if server else set())
        if host_name(host) in allowed:
            return None
        return _refusal(
            400,
            f"this server does not answer to the host {host!r}",
            "open it as http://127.0.0.1:<port> or http://localhost:<port>, or add the name to "
            "[server] allowed_hosts in robustar.toml",
        )

    def _check_origin(self, scope: Scope, headers: Headers) -> JSONResponse | None:
        if scope["method"] in SAFE_METHODS:
            return None
        bearer = _bearer(headers)
        if self.token is not None and bearer is not None:
            if hmac.compare_digest(bearer.encode(), self.token.encode()):
                return None
            return _refusal(401, "the Bearer token is wrong", f"send the token set in {TOKEN_ENV}")
        same = _same_origin(headers)
        if same:
            return None
        if same is None and self.token is None:
            return None  # a program, not a browser, and no token asked for
        if same is None:
            return _refusal(
                401,
                "this server needs a token for changes",
                f"send 'Authorization: Bearer <token>' with the token in {TOKEN_ENV} or "
                "[server] token",
            )
        return _refusal(
            403,
            f"a cross-origin {scope['method']} was refused (Origin "
            f"{headers.get('origin')!r}, Sec-Fetch-Site {headers.get('sec-fetch-site')!r})",
            "use the page this server serves; other programs send no Origin or a Bearer token",
        )


def _bearer(headers: Headers) -> str | None:
    scheme, _, value = headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _same_origin(headers: Headers) -> bool | None:
    """True or False for a browser's request (it names where it comes from), None otherwise."""
    site = headers.get("sec-fetch-site")
    if site is not None:
        return site in ("same-origin", "none")
    origin = headers.get("origin")
    if origin is None:
        return None
    parts = urlsplit(origin)
    host = headers.get("host", "")
    return parts.scheme in ("http", "https") and parts.netloc.lower() == host.lower()


def _bounded(scope: Scope, headers: Headers, receive: Receive) -> Receive:
    """`receive`, refusing a body past its bound (declared or streamed)."""
    png = headers.get("content-type", "").partition(";")[0].strip().lower() == "image/png"
    default = MAX_MASK_BYTES if png else MAX_JSON_BYTES
    declared = headers.get("content-length")
    received = 0

    async def bounded() -> Message:
        nonlocal received
        limit = scope.get(_BODY_LIMIT, default)
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise BodyTooLarge(limit)
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise BodyTooLarge(limit)
        return message

    return bounded
