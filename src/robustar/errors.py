"""User-facing errors: every expected mistake names the thing and the fix."""

from collections.abc import Sequence
from typing import Any, Protocol


class RobustarError(Exception):
    """An expected problem the user can fix; the CLI prints it without a traceback.

    `fix` is what the faces (command line, web app, job log) show; `python_fix`, when the
    fix is a command, names the Python call instead (default: `fix`). `str(error)`, what a
    Python caller sees in a traceback, uses `python_fix`; `text(python=False)` the faces'."""

    def __init__(self, what: str, fix: str | None = None, python_fix: str | None = None) -> None:
        self.what = what
        self.fix = fix
        self.python_fix = python_fix or fix
        super().__init__(self.text(python=True))

    def text(self, python: bool = False) -> str:
        """What went wrong, and the fix for a Python caller or for the faces."""
        fix = self.python_fix if python else self.fix
        return f"{self.what}\n  fix: {fix}" if fix else self.what


class ConfigError(RobustarError):
    """robustar.toml is missing, malformed or names something that does not exist."""


class DataError(RobustarError):
    """A data folder, class folder, class file or image is not usable."""


class CheckpointError(RobustarError):
    """A checkpoint cannot be loaded safely or does not fit the architecture."""


class NotFoundError(RobustarError):
    """An id (image, model version) does not exist in this workspace."""


class ConflictError(RobustarError):
    """A save based on an outdated version; carries the version that is current now."""

    def __init__(self, what: str, fix: str | None, current_version: int | None) -> None:
        super().__init__(what, fix)
        self.current_version = current_version


class Invalid(Protocol):
    """A pydantic ValidationError or FastAPI's RequestValidationError."""

    def errors(self) -> Sequence[Any]: ...


def validation_problems(error: Invalid) -> str:
    """A request's validation errors on one line: 'field: what is wrong; ...'."""
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors())
