"""The FastAPI application: /api/v1 routes, OpenAPI docs, errors as JSON with a fix."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse

from robustar import __version__
from robustar.errors import NotFoundError, RobustarError
from robustar.server.routes import meta, models
from robustar.workspace import Workspace

API_PREFIX = "/api/v1"


def _error_response(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RobustarError)
    status = 404 if isinstance(error, NotFoundError) else 400
    return JSONResponse({"detail": error.what, "fix": error.fix}, status_code=status)


def create_app(workspace: Workspace) -> FastAPI:
    app = FastAPI(
        title="Robustar",
        version=__version__,
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url=f"{API_PREFIX}/openapi.json",
    )
    app.state.workspace = workspace
    api = APIRouter(prefix=API_PREFIX)
    for module in (meta, models):
        api.include_router(module.router)
    app.include_router(api)
    app.add_exception_handler(RobustarError, _error_response)

    @app.get("/", include_in_schema=False)
    def index() -> RedirectResponse:
        return RedirectResponse("/api/docs")

    return app
