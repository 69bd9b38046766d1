"""The [model] section checked where a workspace is created or opened, so that a model it can
never build or a checkpoint that is gone is refused then, naming the field, and not later in
the middle of training or serving.

A `module:callable` architecture found through PYTHONPATH (or the current folder) when the
workspace was created is recorded as `[model] python_path`, and that folder is put back on
sys.path when the workspace is opened, so later commands need no PYTHONPATH.
"""

from __future__ import annotations

import importlib.util
import sys
import sysconfig
from pathlib import Path

from robustar.config import ModelConfig
from robustar.errors import ConfigError, RobustarError
from robustar.models.registry import CLASSIFICATION, Task, check_name, create_model


def _absolute(root: Path, path: str) -> Path:
    given = Path(path).expanduser()
    return given if given.is_absolute() else root / given


def _installed(folder: Path) -> bool:
    """Inside the interpreter's own library folders (site-packages, the standard library)."""
    keys = ("purelib", "platlib", "stdlib", "platstdlib")
    paths = {Path(p).resolve() for k in keys if (p := sysconfig.get_path(k))}
    return any(folder == p or p in folder.parents for p in paths)


def import_folder(architecture: str) -> Path | None:
    """The sys.path folder a `module:callable` architecture's module is imported from, unless it
    is installed (then every process finds it anyway) or not found."""
    if ":" not in architecture:
        return None
    top = architecture.partition(":")[0].partition(".")[0]
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return None
    if spec is None or spec.origin is None or not Path(spec.origin).is_file():
        return None
    origin = Path(spec.origin).resolve()
    folder = origin.parent.parent if spec.submodule_search_locations else origin.parent
    return None if _installed(folder) else folder


def record_python_path(root: Path, model: ModelConfig) -> None:
    """Set `python_path` to the folder the architecture's module comes from (relative to the
    workspace when inside it), when it is not installed and no folder is recorded yet."""
    if model.python_path is not None:
        return
    folder = import_folder(model.architecture)
    if folder is not None:
        inside = folder == root or root in folder.parents
        model.python_path = folder.relative_to(root).as_posix() if inside else str(folder)


def use_python_path(root: Path, model: ModelConfig) -> None:
    """Put the recorded folder at the end of sys.path (never ahead of installed packages)."""
    if model.python_path is None:
        return
    folder = _absolute(root, model.python_path)
    if not folder.is_dir():
        raise ConfigError(
            f"[model] python_path: folder {folder} does not exist",
            "point it at the folder your model's module is in, or remove the field",
        )
    if str(folder) not in sys.path:
        sys.path.append(str(folder))


def check_model_config(
    root: Path, model: ModelConfig, num_classes: int, task: Task = CLASSIFICATION
) -> None:
    """Refuse an architecture the registry cannot build and a checkpoint that does not exist.

    Registered names are only looked up (building a large network on every open is slow); a
    user's `module:callable` is built, because only that shows it returns a torch module."""
    use_python_path(root, model)
    name = model.architecture
    if ":" in name:
        try:
            create_model(name, num_classes, task)
        except RobustarError:
            raise
        except Exception as error:
            raise ConfigError(
                f"[model] architecture: building {name!r} failed: {type(error).__name__}: {error}",
                "name a callable that takes num_classes= (or nothing) and returns a "
                "torch.nn.Module",
            ) from None
    else:
        check_name(name, task)
    if model.checkpoint is not None and not _absolute(root, model.checkpoint).is_file():
        raise ConfigError(
            f"[model] checkpoint: file {_absolute(root, model.checkpoint)} does not exist",
            "fix the path in robustar.toml, or remove [model] checkpoint (its weights were "
            "imported as a model version when the workspace was created)",
        )
