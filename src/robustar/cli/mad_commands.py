"""`robustar discover mad` (competitors, scoring, rounds, picks, labels, fine-tuning, the
rounds table, the ranking) and `robustar rate` (scripted and imported ratings)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from robustar.cli.common import (
    Quiet,
    WorkspaceDir,
    app,
    console,
    discover_app,
    open_workspace,
    percent,
    stdout,
)
from robustar.cli.progress import progress_bars
from robustar.errors import DataError

mad_app = typer.Typer(
    help="MAD: find failures where models disagree; rate, label, fine-tune, rank.",
    no_args_is_help=True,
)
discover_app.add_typer(mad_app, name="mad")
rate_app = typer.Typer(help="MAD ratings: add, undo, import, export.", no_args_is_help=True)
app.add_typer(rate_app, name="rate")

RoundId = Annotated[int, typer.Argument(help="the round (robustar discover mad rounds)")]
ImageSize = Annotated[int | None, typer.Option(help="the input size the model was trained with")]
ClassMapFile = Annotated[
    Path | None,
    typer.Option(help="CSV 'output,class' (or a JSON list) mapping its outputs onto our classes"),
]
Rater = Annotated[str | None, typer.Option(help="the rater's name (default: your account)")]


@mad_app.command("add")
def mad_add(
    workspace: WorkspaceDir,
    version: Annotated[int, typer.Option(help="a model version of this workspace")],
    image_size: ImageSize = None,
    class_map: ClassMapFile = None,
) -> None:
    """Register a model version as a MAD competitor (the target registers itself)."""
    with open_workspace(workspace) as ws:
        found = ws.mad.add(version, image_size=image_size, class_map=class_map)
    stdout.print(f"registered version {found.version_id} ({escape(found.name)})")


@mad_app.command("import")
def mad_import(
    workspace: WorkspaceDir,
    checkpoint: Annotated[Path, typer.Argument(help="weights (.safetensors or .pt)")],
    architecture: Annotated[str | None, typer.Option(help="default: [model]'s")] = None,
    name: Annotated[str | None, typer.Option(help="the version's name")] = None,
    num_classes: Annotated[int | None, typer.Option(help="its outputs (default: ours)")] = None,
    image_size: ImageSize = None,
    class_map: ClassMapFile = None,
) -> None:
    """Import weights beside the current version (not made current) as a competitor."""
    with open_workspace(workspace) as ws:
        found = ws.mad.import_competitor(
            checkpoint,
            architecture,
            name,
            num_classes=num_classes,
            image_size=image_size,
            class_map=class_map,
        )
    stdout.print(f"imported and registered version {found.version_id} ({escape(found.name)})")


@mad_app.command("models")
def mad_models(workspace: WorkspaceDir) -> None:
    """The registered models and how each sees images."""
    with open_workspace(workspace) as ws:
        found = ws.mad.competitors()
    table = Table("version", "name", "architecture", "outputs", "size", "class map")
    for c in found:
        mapped = "-" if c.class_map is None else f"{sum(x >= 0 for x in c.class_map)} mapped"
        table.add_row(
            str(c.version_id), escape(c.name), c.architecture, str(c.outputs), str(c.size), mapped
        )
    stdout.print(table)


@mad_app.command("score")
def mad_score(
    workspace: WorkspaceDir,
    version: Annotated[list[int] | None, typer.Option(help="only these (repeat)")] = None,
    quiet: Quiet = False,
) -> None:
    """Score the pool with every registered model; resumes where a stop left off."""
    with open_workspace(workspace) as ws, progress_bars(console, not quiet) as progress:
        done = ws.mad.score(version or None, progress=progress)
    for v, n in done.items():
        stdout.print(f"version {v}: {n} pool images scored")


@mad_app.command("round")
def mad_round(
    workspace: WorkspaceDir,
    target: Annotated[
        int | None, typer.Option(help="default: last fine-tune, else current")
    ] = None,
    competitor: Annotated[list[int] | None, typer.Option(help="repeat; default: all")] = None,
    tree: Annotated[Path | None, typer.Option(help="class hierarchy: CSV class,parent")] = None,
    threshold: Annotated[float, typer.Option(help="both models' confidence")] = 0.8,
    per_pair: Annotated[int, typer.Option(help="candidates per pair and direction")] = 25,
    per_class: Annotated[int, typer.Option(help="per predicted class")] = 3,
    worst: Annotated[int, typer.Option(help="lowest-rated images labelled for training")] = 100,
    test_size: Annotated[int, typer.Option(help="held-back test images")] = 30,
    test_per_class: Annotated[int, typer.Option(help="test images per class")] = 4,
    seed: Annotated[int, typer.Option(help="draws the test set")] = 0,
) -> None:
    """Select a round's candidates where the target and a competitor disagree confidently."""
    with open_workspace(workspace) as ws:
        found = ws.mad.round(
            target,
            competitor or None,
            tree,
            threshold=threshold,
            per_pair=per_pair,
            per_class=per_class,
            worst=worst,
            test_size=test_size,
            test_per_class=test_per_class,
            seed=seed,
        )
    stdout.print(
        f"round {found.id}: {found.candidates} candidates for version {found.target_id} "
        f"against {', '.join(map(str, found.competitors))}; rate them on the Rate page or "
        f"with 'robustar rate add'"
    )


@mad_app.command("rounds")
def mad_rounds(workspace: WorkspaceDir) -> None:
    """The rounds: target, competitors, candidates, picks, labels, fine-tuned version."""
    with open_workspace(workspace) as ws:
        found = ws.mad.rounds()
    table = Table(
        "round", "target", "competitors", "candidates", "train", "test", "labelled", "fine-tuned"
    )
    for r in found:
        table.add_row(
            str(r.id),
            str(r.target_id),
            ", ".join(map(str, r.competitors)),
            str(r.candidates),
            str(r.picked_train),
            str(r.picked_test),
            str(r.labelled),
            "-" if r.finetuned_id is None else str(r.finetuned_id),
        )
    stdout.print(table)


@mad_app.command("candidates")
def mad_candidates(workspace: WorkspaceDir, round_id: RoundId) -> None:
    """A round's candidates with both predictions, their opinion scores and picks."""
    with open_workspace(workspace) as ws:
        found = ws.mad.candidates(round_id)
        opinions = {o.image_id: o for o in ws.mad.opinions(round_id)}
        classes = ws.classes
    table = Table("image", "target says", "competitor says", "led by", "MOS", "raters", "picked")
    for c in found:
        o = opinions[c.image_id]
        mos = "out of domain" if o.excluded else "-" if o.mos is None else f"{o.mos:.2f}"
        table.add_row(
            str(c.image_id),
            f"{escape(classes[c.target_class])} ({c.target_confidence:.2f})",
            f"{escape(classes[c.competitor_class])} ({c.competitor_confidence:.2f}), "
            f"v{c.competitor_id}",
            c.led_by,
            mos,
            str(o.raters),
            c.purpose or "",
        )
    stdout.print(table)


@mad_app.command("opinions")
def mad_opinions(workspace: WorkspaceDir, round_id: RoundId) -> None:
    """Mean opinion scores with 95 % intervals, and how well the raters agree."""
    with open_workspace(workspace) as ws:
        found = ws.mad.opinions(round_id)
        agreement = ws.mad.agreement(round_id)
    table = Table("image", "raters", "scores", "MOS", "95 % interval")
    for o in found:
        interval = "-" if o.low is None else f"{o.low:.2f} .. {o.high:.2f}"
        mos = "out of domain" if o.excluded else "-" if o.mos is None else f"{o.mos:.2f}"
        table.add_row(str(o.image_id), str(o.raters), " ".join(map(str, o.scores)), mos, interval)
    stdout.print(table)
    alpha = "-" if agreement.alpha is None else f"{agreement.alpha:.2f}"
    rho = "-" if agreement.spearman is None else f"{agreement.spearman:.2f}"
    stdout.print(
        f"{agreement.raters} raters, {agreement.images} images rated by 2 or more: "
        f"Krippendorff's alpha {alpha}, mean pairwise Spearman {rho}"
    )


@mad_app.command("pick")
def mad_pick(workspace: WorkspaceDir, round_id: RoundId) -> None:
    """Pick the worst-rated candidates (training labels) and the held-back test set."""
    with open_workspace(workspace) as ws:
        train, test = ws.mad.pick(round_id)
    stdout.print(
        f"picked {len(train)} for training and {len(test)} for the test set; label them with "
        "'robustar discover mad label'"
    )


@mad_app.command("queue")
def mad_queue(workspace: WorkspaceDir, round_id: RoundId) -> None:
    """Picked images still waiting for their true class."""
    with open_workspace(workspace) as ws:
        found = ws.mad.queue(round_id)
    for c in found:
        stdout.print(f"{c.image_id}\t{c.purpose}")


@mad_app.command("label")
def mad_label(
    workspace: WorkspaceDir,
    round_id: RoundId,
    image_id: Annotated[int | None, typer.Argument(help="a picked image")] = None,
    label: Annotated[str | None, typer.Argument(help="its class (name or index)")] = None,
    file: Annotated[Path | None, typer.Option(help="CSV image_id,label for many")] = None,
) -> None:
    """Give picked images their true class."""
    pairs: list[tuple[int, str]] = []
    if file is not None:
        with file.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                try:
                    pairs.append((int(row["image_id"]), row["label"]))
                except (KeyError, TypeError, ValueError):
                    raise DataError(
                        f"{file}: row {row!r} is not image_id,label",
                        "give a CSV with the header image_id,label",
                    ) from None
    elif image_id is not None and label is not None:
        pairs.append((image_id, label))
    else:
        raise DataError("nothing to label", "give IMAGE_ID LABEL, or --file labels.csv")
    with open_workspace(workspace) as ws:
        for image, value in pairs:
            ws.mad.label(round_id, image, value)
    stdout.print(f"{len(pairs)} labels saved")


@mad_app.command("finetune")
def mad_finetune(
    workspace: WorkspaceDir,
    round_id: RoundId,
    epochs: Annotated[int, typer.Option(help="fine-tuning epochs")] = 5,
    learning_rate: Annotated[float | None, typer.Option(help="default: training's")] = None,
    batch_size: Annotated[int | None, typer.Option(help="default: [runtime]'s")] = None,
    quiet: Quiet = False,
) -> None:
    """Fine-tune the round's target on its labels mixed 1:1 with the training split."""
    options: dict[str, object] = {"epochs": epochs}
    if learning_rate is not None:
        options["learning_rate"] = learning_rate
    if batch_size is not None:
        options["batch_size"] = batch_size
    with open_workspace(workspace) as ws, progress_bars(console, not quiet) as progress:
        version = ws.mad.finetune(round_id, progress=progress, **options)
    stdout.print(
        f"version {version.id} ({version.status}); the next round targets it: "
        "robustar discover mad round"
    )


@mad_app.command("table")
def mad_table(workspace: WorkspaceDir) -> None:
    """Accuracy on the original test set and each round's test set (the paper's Table 1)."""
    with open_workspace(workspace) as ws:
        found = ws.mad.table()
    table = Table("version", "model", "role", *(f"{c.title} ({c.images})" for c in found.columns))
    for row in found.rows:
        table.add_row(
            str(row.version_id), escape(row.name), row.role, *(percent(a) for a in row.accuracy)
        )
    stdout.print(table)


@mad_app.command("rank")
def mad_rank(
    workspace: WorkspaceDir,
    labels: Annotated[
        Path | None, typer.Option(help="CSV image_id,label: more true classes of pool images")
    ] = None,
    threshold: Annotated[
        float | None, typer.Option(help="both models' confidence (default: any disagreement)")
    ] = None,
) -> None:
    """Rank all registered models by their pairwise MAD contests (Bradley-Terry)."""
    with open_workspace(workspace) as ws:
        truth: dict[int, int] = {}
        if labels is not None:
            with labels.open(newline="", encoding="utf-8") as handle:
                for row in csv.DictReader(handle):
                    index = ws.class_index(row.get("label"))
                    if index is None or not (row.get("image_id") or "").isdigit():
                        raise DataError(
                            f"{labels}: row {row!r} is not image_id,label",
                            "give a CSV with the header image_id,label",
                        )
                    truth[int(row["image_id"])] = index
        found = ws.mad.ranking(labels=truth, threshold=threshold)
        names = {v.id: v.name for v in ws.models}
    table = Table("rank", "version", "model", "strength", "contests", "failed", "test accuracy")
    for m in found.models:
        failed = "-" if m.failure_rate is None else f"{100 * m.failure_rate:.0f} %"
        table.add_row(
            str(m.rank),
            str(m.version_id),
            escape(names.get(m.version_id, "")),
            f"{m.strength:.2f}",
            str(m.contests),
            failed,
            percent(m.accuracy),
        )
    stdout.print(table)
    if found.spearman is not None:
        stdout.print(
            f"against test accuracy: Spearman {found.spearman:.2f}, Kendall {found.kendall:.2f}"
        )
    if found.unlabelled:
        stdout.print(
            f"{len(found.unlabelled)} selected images have no true class; label more to rank better"
        )


@rate_app.command("add")
def rate_add(
    workspace: WorkspaceDir,
    round_id: RoundId,
    image_id: Annotated[int, typer.Argument(help="a candidate of the round")],
    score: Annotated[int, typer.Argument(help="1 bad .. 5 excellent; 0 out of domain")],
    rater: Rater = None,
) -> None:
    """Rate a candidate's prediction (a second rating by the same rater replaces the first)."""
    with open_workspace(workspace) as ws:
        found = ws.mad.rate(round_id, image_id, score, rater)
    stdout.print(f"image {found.image_id}: {found.score} by {escape(found.rater)}")


@rate_app.command("undo")
def rate_undo(workspace: WorkspaceDir, round_id: RoundId, rater: Rater = None) -> None:
    """Withdraw the rater's latest rating in the round."""
    with open_workspace(workspace) as ws:
        found = ws.mad.undo(round_id, rater)
    said = "nothing to undo" if found is None else f"withdrew image {found.image_id}'s rating"
    stdout.print(said)


@rate_app.command("import")
def rate_import(
    workspace: WorkspaceDir,
    round_id: RoundId,
    file: Annotated[Path, typer.Argument(help="CSV image_id,rater,score (or JSON)")],
) -> None:
    """Import ratings from another tool: all rows or none."""
    if not file.is_file():
        raise DataError(f"{file} does not exist", "give the path of a CSV or JSON file")
    with open_workspace(workspace) as ws:
        count = ws.mad.import_ratings(round_id, file.read_text(encoding="utf-8"))
    stdout.print(f"imported {count} ratings")


@rate_app.command("export")
def rate_export(
    workspace: WorkspaceDir,
    round_id: RoundId,
    format: Annotated[str, typer.Option(help="csv or json")] = "csv",
    history: Annotated[bool, typer.Option(help="superseded and undone ratings too")] = False,
    out: Annotated[Path | None, typer.Option(help="write to this file")] = None,
) -> None:
    """Export the round's ratings."""
    if format not in ("csv", "json"):
        raise DataError(f"unknown format {format!r}", "use --format csv or --format json")
    with open_workspace(workspace) as ws:
        text = ws.mad.export_ratings(round_id, format, history)  # type: ignore[arg-type]
    if out is None:
        stdout.out(text, end="")
    else:
        out.write_text(text, encoding="utf-8")
