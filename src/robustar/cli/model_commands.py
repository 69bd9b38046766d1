"""Model versions: list, use, import, architectures."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from robustar.cli.common import (
    WorkspaceDir,
    models_app,
    open_workspace,
    print_versions,
    stdout,
)


@models_app.command("list")
def models_list(directory: WorkspaceDir) -> None:
    """All model versions with lineage and accuracy; * marks the current one, 'candidate'
    one the regression guard held back."""
    workspace = open_workspace(directory)
    print_versions(workspace.models, list(workspace.folders))


@models_app.command("use")
def models_use(directory: WorkspaceDir, version: int) -> None:
    """Make a model version current (this promotes a candidate the guard held back)."""
    workspace = open_workspace(directory)
    was = workspace.model(version).status
    chosen = workspace.use_model(version)
    promoted = " (promoted from candidate)" if was != chosen.status else ""
    stdout.print(f"model version {chosen.id} ({chosen.name}) is now current{promoted}")


@models_app.command("import")
def models_import(
    directory: WorkspaceDir,
    checkpoint: Path,
    architecture: Annotated[str | None, typer.Option()] = None,
    name: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Import a state dict (.pt/.pth or .safetensors) as a new current version."""
    version = open_workspace(directory).import_model(checkpoint, architecture, name)
    stdout.print(f"imported {checkpoint} as model version {version.id} ({version.architecture})")


@models_app.command("architectures")
def models_architectures() -> None:
    """Model names that `architecture` accepts."""
    from robustar.models.registry import list_models

    for source, names in list_models().items():
        stdout.print(f"[bold]{source}[/] ({len(names)}): {' '.join(names[:60])}")
