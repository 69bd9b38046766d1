"""`robustar discover defuse`: the VAE, the error search, the regions, labels (by hand or by a
trusted model), the correction sweep, the latent map and interpolations."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from robustar.cli.common import (
    Quiet,
    WorkspaceDir,
    console,
    discover_app,
    open_workspace,
    percent,
    stdout,
)
from robustar.cli.progress import progress_bars
from robustar.errors import DataError

defuse_app = typer.Typer(
    help="Defuse: novel errors from a VAE's latent space, labelled by region, corrected.",
    no_args_is_help=True,
)
discover_app.add_typer(defuse_app, name="defuse")

RunId = Annotated[int, typer.Argument(help="the run (robustar discover defuse runs)")]


@defuse_app.command("runs")
def defuse_runs(workspace: WorkspaceDir) -> None:
    """The runs: VAE epochs, searched images, flips per radius, codes, regions."""
    with open_workspace(workspace) as ws:
        found = ws.defuse.runs()
    table = Table("run", "VAE", "version", "searched", "flips per radius", "codes", "regions")
    for r in found:
        flips = ", ".join(f"{s.radius:g}: {percent(s.share)}" for s in r.flip_share)
        table.add_row(
            str(r.id),
            f"{r.image_size}px z{r.latent}, {len(r.curves)} epochs",
            "-" if r.version_id is None else f"v{r.version_id}",
            f"{r.searched_images}{'' if r.search_done else ' (unfinished)'}",
            flips or "-",
            str(r.codes),
            f"{r.regions} ({r.labelled} labelled)",
        )
    stdout.print(table)


@defuse_app.command("vae")
def defuse_vae(
    workspace: WorkspaceDir,
    run: Annotated[
        int | None, typer.Option(help="go on with this run (default: a new one)")
    ] = None,
    image_size: Annotated[int, typer.Option(help="VAE image side, a multiple of 16")] = 32,
    latent: Annotated[int, typer.Option(help="latent dimensions")] = 12,
    beta: Annotated[float, typer.Option(help="KL weight after the warm-up")] = 4.0,
    warmup_epochs: Annotated[int, typer.Option(help="KL warm-up epochs")] = 5,
    loss: Annotated[str, typer.Option(help="bce or mse")] = "bce",
    epochs: int = 30,
    quiet: Quiet = False,
) -> None:
    """Train a run's VAE on the training images (a stopped run resumes)."""
    settings = {"image_size": image_size, "latent": latent, "beta": beta,
                "warmup_epochs": warmup_epochs, "loss": loss, "epochs": epochs}  # fmt: skip
    with open_workspace(workspace) as ws, progress_bars(console, not quiet) as progress:
        chosen: dict[str, Any] = {} if run is not None else settings
        found = ws.defuse.train_vae(run, progress, **chosen)
    last = found.curves[-1] if found.curves else {}
    stdout.print(
        f"run {found.id}: VAE trained {len(found.curves)} epochs, loss {last.get('loss', 0):.2f}"
        f"; preview: {ws.defuse.folder(found.id) / 'preview.png'}"
    )


@defuse_app.command("search")
def defuse_search(
    workspace: WorkspaceDir,
    run: RunId,
    version: Annotated[int | None, typer.Option(help="default: the current version")] = None,
    samples: Annotated[int, typer.Option(help="Q: perturbations per image and radius")] = 100,
    radius: Annotated[list[float] | None, typer.Option(help="repeat; default 5, 10, 20")] = None,
    a: Annotated[float, typer.Option(help="ε = radius·(Beta(a, a) - 0.5)")] = 50.0,
    fresh: Annotated[bool, typer.Option(help="start again, dropping kept codes")] = False,
    quiet: Quiet = False,
) -> None:
    """Search the training images' codes for errors (resumes after the last batch)."""
    settings: dict[str, object] = {"samples": samples, "a": a}
    if radius:
        settings["radii"] = radius
    with open_workspace(workspace) as ws, progress_bars(console, not quiet) as progress:
        found = ws.defuse.search(run, version, progress, fresh, **settings)
    for s in found.flip_share:
        stdout.print(f"radius {s.radius:g}: {percent(s.share)} of {s.drawn} samples flipped")
    stdout.print(f"{found.codes} error codes kept from {found.searched_images} images")


@defuse_app.command("regions")
def defuse_regions(
    workspace: WorkspaceDir,
    run: RunId,
    fit: Annotated[bool, typer.Option(help="fit the mixture again (drops labels)")] = False,
    max_components: int = 100,
    min_weight: Annotated[float, typer.Option(help="keep components above this weight")] = 0.01,
    samples: Annotated[int, typer.Option(help="codes sampled per region")] = 64,
) -> None:
    """List a run's error regions, or fit them (--fit) from the kept codes."""
    with open_workspace(workspace) as ws:
        if fit:
            settings = {"max_components": max_components, "min_weight": min_weight,
                        "samples": samples}  # fmt: skip
            found = ws.defuse.fit_regions(run, **settings)
        else:
            found = ws.defuse.regions(run)
    table = Table("region", "weight", "size", "answers", "label", "by")
    for r in found:
        counts = {c: r.predicted.count(c) for c in sorted(set(r.predicted))}
        answers = ", ".join(f"{ws.classes[c]}: {n}" for c, n in counts.items())
        label = "unrecognisable" if r.unrecognisable else (r.label_name or "-")
        table.add_row(str(r.id), f"{r.weight:.3f}", str(r.size), answers, label, r.author or "")
    stdout.print(table)


@defuse_app.command("label")
def defuse_label(
    workspace: WorkspaceDir,
    run: RunId,
    region: Annotated[int | None, typer.Argument(help="the region")] = None,
    cls: Annotated[str | None, typer.Argument(metavar="CLASS", help="name or index")] = None,
    unrecognisable: bool = False,
    oracle: Annotated[
        int | None, typer.Option(help="label every region with this trusted version")
    ] = None,
) -> None:
    """Label a region with a class or as unrecognisable; or all by a trusted version."""
    with open_workspace(workspace) as ws:
        if oracle is not None:
            done = ws.defuse.label_with(run, oracle)
            named = sum(r.label is not None for r in done)
            stdout.print(f"{named} of {len(done)} regions labelled with a class by v{oracle}")
            return
        if region is None or (cls is None and not unrecognisable):
            raise DataError(
                "give a region and a class, or --unrecognisable, or --oracle VERSION",
                f"robustar discover defuse label WS {run} REGION CLASS",
            )
        found = ws.defuse.label(run, region, cls, unrecognisable)
    stdout.print(f"region {found.id}: {found.label_name or 'unrecognisable'}")


@defuse_app.command("correct")
def defuse_correct(
    workspace: WorkspaceDir,
    run: RunId,
    weight: Annotated[list[float] | None, typer.Option(help="λ, repeat; default 0.01 0.1 1")] = (
        None
    ),
    baseline: Annotated[bool, typer.Option(help="also fine-tune on regions alone")] = True,
    epochs: int = 5,
    quiet: Quiet = False,
) -> None:
    """Fine-tune on CE(train) + λ·CE(region samples) per λ, plus the baseline; the table."""
    settings: dict[str, object] = {"baseline": baseline, "epochs": epochs}
    if weight:
        settings["weights"] = weight
    with open_workspace(workspace) as ws, progress_bars(console, not quiet) as progress:
        report = ws.defuse.correct(run, progress, **settings)
    table = Table("model", "version", "region samples", "test", "status")
    table.add_row("before", f"v{report.version_id}", percent(report.region_accuracy),
                  percent(report.test_accuracy), "")  # fmt: skip
    for r in report.rows:
        name = f"λ={r.weight:g}" if r.mode == "mixed" else "regions only"
        table.add_row(name, f"v{r.version_id}", percent(r.region_accuracy),
                      percent(r.test_accuracy), r.status)  # fmt: skip
    stdout.print(table)


@defuse_app.command("map")
def defuse_map(
    workspace: WorkspaceDir,
    run: RunId,
    out: Annotated[Path, typer.Option(help="JSON file of the 2-D points")] = Path("map.json"),
    limit: int = 2000,
) -> None:
    """PCA map of training codes, error codes and region means, written as JSON."""
    with open_workspace(workspace) as ws:
        found = ws.defuse.map(run, limit)
    out.write_text(json.dumps(found, default=lambda o: o.__dict__))
    stdout.print(
        f"{len(found.training)} training, {len(found.errors)} error codes, "
        f"{len(found.regions)} regions -> {out}"
    )


@defuse_app.command("interpolate")
def defuse_interpolate(
    workspace: WorkspaceDir,
    run: RunId,
    first: Annotated[int, typer.Argument(help="an image id")],
    second: Annotated[int, typer.Argument(help="another image id")],
    steps: int = 8,
    out: Annotated[Path, typer.Option(help="PNG strip of the steps")] = Path("interpolation.png"),
) -> None:
    """Decode the line between two images' codes; the answer at each step."""
    import torch  # here: the CLI starts without torch
    from torchvision.io import decode_png

    from robustar.discover.defuse.pixels import grid

    with open_workspace(workspace) as ws:
        found = ws.defuse.interpolate(run, first, second, steps)
        names = [ws.classes[s.predicted] for s in found]
    pixels = torch.stack(
        [decode_png(torch.frombuffer(bytearray(s.png), dtype=torch.uint8)) for s in found]
    )
    out.write_bytes(grid(pixels.float() / 255, len(found)))
    stdout.print(
        " -> ".join(f"{n} ({s.confidence:.2f})" for n, s in zip(names, found, strict=True))
    )
    stdout.print(f"written {out}")
