"""Explanations: saliency of an image or a split, and data attribution."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from robustar.cli.common import (
    Quiet,
    WorkspaceDir,
    app,
    attribute_app,
    console,
    open_workspace,
    stdout,
)
from robustar.cli.derive import DEFAULT, Fields, OneOf, command
from robustar.cli.progress import progress_bars

AttributionMethod = Annotated[
    str, OneOf("robustar.explain.attribution:ATTRIBUTION", "attribution method")
]


@command(app)
def explain(
    directory: WorkspaceDir,
    image: Annotated[int | None, typer.Argument(help="image id; omit with --split")] = None,
    method: Annotated[
        str, OneOf("robustar.explain.saliency:SALIENCY", "saliency method")
    ] = DEFAULT,
    target: Annotated[
        str | None, typer.Option(help="class name or index; default predicted")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="write the heat map PNG here")] = None,
    split: Annotated[str | None, typer.Option(help="precompute a whole split instead")] = None,
    quiet: Quiet = False,
) -> None:
    """Saliency of one image (PNG and the share inside its spurious mask), or of a split."""
    workspace = open_workspace(directory)
    if split is not None:
        with progress_bars(console, not quiet) as progress:
            count = workspace.explain.precompute(split, method, None, progress)
        stdout.print(f"{method} saliency cached for {count} {split} images")
        return
    if image is None:
        raise typer.BadParameter("give an image id or --split")
    found = workspace.explain.saliency(image, method, target)
    if out is not None:
        out.write_bytes(workspace.explain.render(found))
    share = workspace.explain.mask_share(found, "spurious")
    inside = "" if share is None else f"; {share:.1%} of it inside the spurious mask"
    stdout.print(f"image {image}: {method} for class {workspace.classes[found.target]}{inside}")


@app.command()
def activation(
    directory: WorkspaceDir,
    target: Annotated[str, typer.Argument(help="class name or index")],
    out: Annotated[Path, typer.Option(help="write the PNG here")],
    version: Annotated[int | None, typer.Option(help="default: the current version")] = None,
) -> None:
    """Activation maximisation: an image the model scores as the class as strongly as it can."""
    workspace = open_workspace(directory)
    out.write_bytes(workspace.explain.activation_maximisation(target, version))
    index = workspace.class_index(target)
    assert index is not None  # a name or an index was given
    stdout.print(f"class {workspace.classes[index]} as the model sees it: {out}")


@command(attribute_app, "build")
def attribute_build(
    directory: WorkspaceDir,
    options: Annotated[dict[str, Any], Fields("robustar.explain.attribution:IndexOptions")],
    method: AttributionMethod = DEFAULT,
    fresh: Annotated[bool, typer.Option(help="start over instead of resuming")] = False,
    quiet: Quiet = False,
) -> None:
    """Build (or finish) the attribution index of the current model version."""
    workspace = open_workspace(directory)
    with progress_bars(console, not quiet) as progress:
        info = workspace.attribution.build(method, None, progress=progress, fresh=fresh, **options)
    members = f", ensemble of {info.ensemble} checkpoints" if info.ensemble > 1 else ""
    stdout.print(
        f"{info.method} index of version {info.version}: {info.images} training images{members}"
    )


@command(attribute_app, "query")
def attribute_query(
    directory: WorkspaceDir,
    image: int,
    k: Annotated[int, typer.Option()] = 8,
    method: AttributionMethod = DEFAULT,
    target: Annotated[
        str | None,
        typer.Option(help="class name or index; default the label (unlabelled: the prediction)"),
    ] = None,
) -> None:
    """The training images that most support and most oppose a class of an image."""
    workspace = open_workspace(directory)
    found = workspace.attribution.query(image, k, method, target=target)
    stdout.print(f"explaining class {workspace.classes[found.target]}")
    for group, rows in (("helpful", found.helpful), ("harmful", found.harmful)):
        stdout.print(
            f"[bold]{group}[/]: " + ", ".join(f"{s.image_id} ({s.score:+.3g})" for s in rows)
        )


@command(attribute_app, "suspicious")
def attribute_suspicious(
    directory: WorkspaceDir,
    limit: Annotated[int, typer.Option()] = 20,
    method: AttributionMethod = DEFAULT,
    ordering: Annotated[
        Literal["balanced", "score"],
        typer.Option(help="balanced: the mistakes' classes take turns; score: by score alone"),
    ] = "balanced",
    exclude_annotated: Annotated[
        bool, typer.Option(help="leave out images that already have a spurious mask")
    ] = False,
    quiet: Quiet = False,
) -> None:
    """Training images ranked by harmful influence on misclassified test images."""
    workspace = open_workspace(directory)
    with progress_bars(console, not quiet) as progress:
        ranked = workspace.attribution.suspicious(
            method,
            limit=limit,
            ordering=ordering,
            exclude_annotated=exclude_annotated,
            progress=progress,
        )
    for rank, s in enumerate(ranked, 1):
        stdout.print(
            f"{rank:4d}. image {s.image_id}  score {s.score:.4f}  harms test image "
            f"{s.harms_most} ({workspace.classes[s.mistake_class]}) most"
            + ("  [annotated]" if s.annotated else "")
        )
