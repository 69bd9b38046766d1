"""Explanations: saliency of an image or a split, and data attribution."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

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
from robustar.cli.derive import OneOf, derived
from robustar.cli.progress import progress_bars
from robustar.explain.attribution import ATTRIBUTION, DEFAULT_METHOD, INDEX_DEFAULTS
from robustar.explain.saliency import DEFAULT_METHOD as DEFAULT_SALIENCY
from robustar.explain.saliency import SALIENCY

AttributionMethod = Annotated[str, OneOf(ATTRIBUTION, "attribution method")]


@app.command()
@derived
def explain(
    directory: WorkspaceDir,
    image: Annotated[int | None, typer.Argument(help="image id; omit with --split")] = None,
    method: Annotated[str, OneOf(SALIENCY, "saliency method")] = DEFAULT_SALIENCY,
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
    heat, explained = workspace.explain.saliency(image, method, target)
    if out is not None:
        out.write_bytes(workspace.explain.render(heat))
    share = workspace.explain.mask_share(heat, image, "spurious")
    inside = "" if share is None else f"; {share:.1%} of it inside the spurious mask"
    stdout.print(f"image {image}: {method} for class {workspace.classes[explained]}{inside}")


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


@attribute_app.command("build")
@derived
def attribute_build(
    directory: WorkspaceDir,
    method: AttributionMethod = DEFAULT_METHOD,
    dim: Annotated[
        int, typer.Option(help="projection dimension (trak, influence-cg)")
    ] = INDEX_DEFAULTS.dim,
    damping: Annotated[float, typer.Option()] = INDEX_DEFAULTS.damping,
    ensemble: Annotated[
        int, typer.Option(help="trak: average over this many last epoch checkpoints")
    ] = 1,
    fresh: Annotated[bool, typer.Option(help="start over instead of resuming")] = False,
    quiet: Quiet = False,
) -> None:
    """Build (or finish) the attribution index of the current model version."""
    workspace = open_workspace(directory)
    with progress_bars(console, not quiet) as progress:
        info = workspace.attribution.build(method, None, dim, damping, progress, fresh, ensemble)
    members = f", ensemble of {info.ensemble} checkpoints" if info.ensemble > 1 else ""
    stdout.print(
        f"{info.method} index of version {info.version}: {info.images} training images{members}"
    )


@attribute_app.command("query")
@derived
def attribute_query(
    directory: WorkspaceDir,
    image: int,
    k: Annotated[int, typer.Option()] = 8,
    method: AttributionMethod = DEFAULT_METHOD,
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


@attribute_app.command("suspicious")
@derived
def attribute_suspicious(
    directory: WorkspaceDir,
    limit: Annotated[int, typer.Option()] = 20,
    method: AttributionMethod = DEFAULT_METHOD,
) -> None:
    """Training images ranked by harmful influence on misclassified test images."""
    ranked = open_workspace(directory).attribution.suspicious(method, limit=limit)
    for rank, s in enumerate(ranked, 1):
        stdout.print(
            f"{rank:4d}. image {s.image_id}  score {s.score:.4f}  "
            f"harms test image {s.harms_most} most"
        )
