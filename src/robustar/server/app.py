"""The FastAPI application: /api/v1 routes, OpenAPI docs, errors as JSON with a fix."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from robustar import __version__
from robustar.errors import ConflictError, NotFoundError, RobustarError, validation_problems
from robustar.server import security, team
from robustar.server.routes import (
    admin,
    assignments,
    auth,
    defuse,
    edits,
    explain,
    housekeeping,
    images,
    jobs,
    mad,
    mask_transfer,
    masks,
    meta,
    methods,
    metrics,
    models,
)
from robustar.server.schemas import ERRORS
from robustar.workspace import Workspace

API_PREFIX = "/api/v1"
STATIC_DIR = Path(__file__).parent / "static"  # the built web app (make web)
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "options", "head", "trace"}


def _error_response(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RobustarError)
    body: dict[str, object] = {"detail": error.what, "fix": error.fix}
    status = 400
    if isinstance(error, NotFoundError):
        status = 404
    elif isinstance(error, ConflictError):
        status, body["current_version"] = 409, error.current_version
    return JSONResponse(body, status_code=status)


def _invalid_request(_request: Request, error: Exception) -> JSONResponse:
    """422 in the same {detail, fix} shape as every other error, naming each field."""
    assert isinstance(error, RequestValidationError)
    body = {
        "detail": f"invalid request: {validation_problems(error)}",
        "fix": "correct those fields; the API documentation is at /api/docs",
    }
    return JSONResponse(body, status_code=422)


def _http_error(request: Request, error: Exception) -> JSONResponse:
    """Starlette's own errors (405, unknown paths, oversized uploads) as {detail, fix}."""
    assert isinstance(error, StarletteHTTPException)
    given = error.detail if isinstance(error.detail, dict) else {"detail": str(error.detail)}
    body = {"detail": str(given["detail"]), "fix": given.get("fix")}
    headers, status = dict(error.headers or {}), error.status_code
    if status == 405:
        allowed = _allowed_methods(request)
        if not allowed or request.method in allowed.split(", "):
            # no such API path, or one whose id is no number: nothing here, not a wrong method
            status, body["detail"] = 404, f"no API route {request.url.path}"
        else:
            headers["Allow"] = allowed
    return JSONResponse(body, status_code=status, headers=headers)


def _allowed_methods(request: Request) -> str:
    """Every method the document declares for the request's path. Starlette names only the
    first route that matched, but GET and PUT of one path are two routes here."""
    paths: dict[str, dict[str, object]] = request.app.openapi()["paths"]
    templates = [t for t in paths if re.fullmatch(_pattern(t), request.url.path)]
    if not templates:
        return ""
    template = min(templates, key=lambda t: t.count("{"))  # a literal segment wins
    return ", ".join(m.upper() for m in paths[template] if m in HTTP_METHODS)


def _pattern(template: str) -> str:
    """/images/{image_id}/file → /images/[^/]+/file"""
    return "[^/]+".join(re.escape(part) for part in re.split(r"{[^/]+}", template))


def api_app() -> FastAPI:
    """The routes, their OpenAPI document and error mapping, before any workspace is attached."""
    app = FastAPI(
        title="Robustar",
        version=__version__,
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url=f"{API_PREFIX}/openapi.json",
    )
    api = APIRouter(prefix=API_PREFIX, responses=ERRORS)
    routers = (meta, methods, models, images, metrics, masks, mask_transfer, jobs, explain)
    for module in (*routers, housekeeping, auth, admin, assignments, edits, mad, defuse):
        api.include_router(module.router)
    api.include_router(models.compare_router)
    app.include_router(api)
    app.add_exception_handler(RobustarError, _error_response)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    return app


def create_app(workspace: Workspace) -> FastAPI:
    """The app for `workspace`; in team mode ([server] team) only once its conditions hold."""
    settings = workspace.config.server
    if settings.team:
        team.check(settings, workspace.accounts)
    app = api_app()
    app.state.workspace = workspace
    app.state.team = settings.team
    app.state.login_limits = auth.LoginLimits()
    security.install(app, settings)

    if (STATIC_DIR / "index.html").is_file():
        serve_web_app(app)
    else:

        @app.get("/", include_in_schema=False)
        def index() -> RedirectResponse:
            return RedirectResponse("/api/docs")

    return app


def serve_web_app(app: FastAPI) -> None:
    """Static assets by name, and index.html for every other non-API path (client routing)."""
    app.mount("/assets", StaticFiles(directory=STATIC_DIR / "assets"), name="assets")
    index = STATIC_DIR / "index.html"

    @app.get("/{path:path}", include_in_schema=False)
    def spa(path: str, request: Request) -> FileResponse:
        if path == "api" or path.startswith("api/"):
            raise HTTPException(status_code=405 if _allowed_methods(request) else 404)
        return FileResponse(index, headers={"Cache-Control": "no-cache"})
