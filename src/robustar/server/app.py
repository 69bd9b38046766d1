"""The FastAPI application: /api/v1 routes, OpenAPI docs, errors as JSON with a fix."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from robustar import __version__
from robustar.errors import ConflictError, NotFoundError, RobustarError
from robustar.server import params, security
from robustar.server.routes import explain, images, jobs, masks, meta, methods, metrics, models
from robustar.workspace import Workspace

API_PREFIX = "/api/v1"
STATIC_DIR = Path(__file__).parent / "static"  # the built web app (make web)


def _error_response(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RobustarError)
    body: dict[str, object] = {"detail": error.what, "fix": error.fix}
    status = 400
    if isinstance(error, NotFoundError):
        status = 404
    elif isinstance(error, ConflictError):
        status, body["current_version"] = 409, error.current_version
    return JSONResponse(body, status_code=status)


def create_app(workspace: Workspace) -> FastAPI:
    app = FastAPI(
        title="Robustar",
        version=__version__,
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url=f"{API_PREFIX}/openapi.json",
    )
    app.state.workspace = workspace
    security.install(app, workspace.config.server)
    app.add_exception_handler(RequestValidationError, params.validation_error)
    api = APIRouter(prefix=API_PREFIX)
    for module in (meta, methods, models, images, metrics, masks, jobs, explain):
        api.include_router(module.router)
    api.include_router(models.compare_router)
    app.include_router(api)
    app.add_exception_handler(RobustarError, _error_response)

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
    def spa(path: str) -> FileResponse:
        if path == "api" or path.startswith("api/"):
            raise HTTPException(status_code=404, detail=f"no API route /{path}")
        return FileResponse(index, headers={"Cache-Control": "no-cache"})
