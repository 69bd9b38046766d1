"""Creating a workspace: init (class folders or a labels file) and import-hf."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from robustar.cli.common import (
    Mean,
    Quiet,
    Std,
    WorkspaceDir,
    app,
    console,
    print_warnings,
    stdout,
)
from robustar.cli.progress import progress_bars
from robustar.cli.workspace_commands import print_info
from robustar.data.labels import LABELS_FILE

if TYPE_CHECKING:
    from robustar.config import WorkspaceConfig
    from robustar.data.labels import LabelTable
    from robustar.data.propose import ModelProposal

ImageSize = Annotated[
    int | None,
    typer.Option(help="model input size in pixels; default: proposed from the images"),
]
Resize = Annotated[str, typer.Option(help="pad, stretch or crop")]


@app.command()
def init(
    directory: WorkspaceDir,
    train: Annotated[
        Path | None, typer.Option(help="train folder: one sub-folder per class")
    ] = None,
    validation: Annotated[Path | None, typer.Option(help="validation folder")] = None,
    test: Annotated[Path | None, typer.Option(help="test folder (out-of-domain is best)")] = None,
    pool: Annotated[Path | None, typer.Option(help="unlabelled pool folder")] = None,
    labels: Annotated[
        Path | None,
        typer.Option(
            help="instead of class folders: a CSV (columns file,label and optionally split) or "
            "JSON labels file over the --images folder",
            dir_okay=False,
        ),
    ] = None,
    images: Annotated[
        Path | None, typer.Option(help="with --labels: the folder the file names are in")
    ] = None,
    split: Annotated[
        str | None, typer.Option(help="with --labels: the split of every row (no split column)")
    ] = None,
    class_file: Annotated[Path | None, typer.Option(help="one class name per line")] = None,
    architecture: Annotated[
        str | None,
        typer.Option(
            help="model name, see 'robustar models architectures'; default: proposed from the "
            "images (small_cnn for small ones, resnet18 otherwise)"
        ),
    ] = None,
    checkpoint: Annotated[Path | None, typer.Option(help="weights to import as version 1")] = None,
    image_size: ImageSize = None,
    resize: Resize = "pad",
    mean: Mean = None,
    std: Std = None,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or mps")] = "auto",
    batch_size: Annotated[int, typer.Option()] = 64,
    database_url: Annotated[str | None, typer.Option(help="SQLAlchemy URL; default SQLite")] = None,
    quiet: Quiet = False,
) -> None:
    """Create a workspace from existing image folders (--train: one sub-folder per class), or
    from a labels file over a flat folder (--labels, --images), and index them. Without
    --architecture or --image-size, they are proposed from the training images' median size
    (and said)."""
    from robustar.workspace import Workspace

    folders = {"train": train, "validation": validation, "test": test, "pool": pool}
    table = None
    if labels is not None:
        table = _labels_table(labels, images, split, class_file, folders)
        folders = dict.fromkeys(table.splits, images)
    elif train is None:
        raise typer.BadParameter("give --train FOLDER, or --labels FILE with --images FOLDER")
    sample = folders["train"]
    if sample is not None and sample.is_dir():
        from robustar.data.propose import propose_model

        architecture, image_size = _choose_model(
            architecture, image_size, lambda chosen: propose_model(sample, chosen)
        )
    raw: dict[str, dict[str, object]] = {
        "data": {
            **{name: _absolute(folder) for name, folder in folders.items()},
            "class_file": _absolute(class_file),
            "labels": None if table is None else LABELS_FILE,
        },
        "image": {"size": image_size, "resize": resize, "mean": mean, "std": std},
        "model": {"architecture": architecture, "checkpoint": _absolute(checkpoint)},
        "runtime": {"device": device, "batch_size": batch_size},
        "database": {"url": database_url},
    }
    config = _config(raw, directory)
    with progress_bars(console, not quiet) as progress:
        workspace = Workspace.create(
            directory, config, progress, None if table is None else lambda _root: table
        )
    print_info(workspace)
    if workspace.current_model is not None:  # the --checkpoint
        print_warnings(workspace.current_model)


def _absolute(path: Path | None) -> str | None:
    return None if path is None else str(path.expanduser().resolve())


def _config(raw: dict[str, dict[str, object]], directory: Path) -> WorkspaceConfig:
    """The configuration from the options given (None: not given, the default)."""
    from robustar.config import parse_config

    raw = {k: {f: v for f, v in section.items() if v is not None} for k, section in raw.items()}
    return parse_config(raw, directory / "robustar.toml")


def _choose_model(
    architecture: str | None,
    image_size: int | None,
    propose: Callable[[str | None], ModelProposal],
) -> tuple[str | None, int | None]:
    """The architecture and input size given, or proposed from the data (and said)."""
    if architecture is not None and image_size is not None:
        return architecture, image_size
    proposal = propose(architecture)
    architecture, image_size = proposal.architecture, image_size or proposal.size
    stdout.print(
        f"model: {architecture} at {image_size} px, proposed from the data: "
        f"{proposal.reason} (--architecture and --image-size choose otherwise)"
    )
    return architecture, image_size


@app.command("import-hf")
def import_hf(
    directory: WorkspaceDir,
    source: Annotated[
        Path,
        typer.Argument(
            help="a Hugging Face dataset saved with save_to_disk, or an imagefolder",
            file_okay=False,
        ),
    ],
    split: Annotated[
        str | None, typer.Option(help="the split of a single Dataset (default train)")
    ] = None,
    architecture: Annotated[
        str | None, typer.Option(help="model name; default: proposed from the images")
    ] = None,
    image_size: ImageSize = None,
    resize: Resize = "pad",
    mean: Mean = None,
    std: Std = None,
    quiet: Quiet = False,
) -> None:
    """Create a workspace from a Hugging Face `datasets` image dataset: its images are copied
    into the workspace, its ClassLabel names are the classes, its splits the splits."""
    import shutil

    from robustar.config import CONFIG_FILE
    from robustar.data.hf import IMAGES_DIR, open_dataset
    from robustar.data.propose import propose_from_sides
    from robustar.errors import ConfigError
    from robustar.workspace import Workspace

    root = directory.expanduser().resolve()
    if (root / CONFIG_FILE).exists():
        raise ConfigError(f"{root} is already a Robustar workspace", "choose another folder")
    made, cache = not root.exists(), root / ".hf-cache"
    try:
        dataset = open_dataset(source.expanduser().resolve(), cache, split)
        architecture, image_size = _choose_model(
            architecture,
            image_size,
            lambda chosen: propose_from_sides(dataset.sides(), chosen, source),
        )
        raw: dict[str, dict[str, object]] = {
            "data": {
                **dict.fromkeys(dataset.workspace_splits(), IMAGES_DIR),
                "labels": LABELS_FILE,
            },
            "image": {"size": image_size, "resize": resize, "mean": mean, "std": std},
            "model": {"architecture": architecture},
        }
        config = _config(raw, directory)
        with progress_bars(console, not quiet) as progress:
            workspace = Workspace.create(
                root, config, progress, lambda new: dataset.write(new, progress)
            )
    except BaseException:
        if made:
            shutil.rmtree(root, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    print_info(workspace)


def _labels_table(
    labels: Path,
    images: Path | None,
    split: str | None,
    class_file: Path | None,
    folders: dict[str, Path | None],
) -> LabelTable:
    """The checked rows of a labels file, before anything is created."""
    from robustar.data.classes import read_names
    from robustar.data.labels import read_labels
    from robustar.errors import DataError

    given = [f"--{name}" for name, folder in folders.items() if folder is not None]
    if given:
        raise DataError(
            f"--labels takes the splits from its split column (or --split), not {given[0]}",
            f"drop {' '.join(given)}, or drop --labels to use class sub-folders",
        )
    if images is None or not images.is_dir():
        raise DataError(
            f"--labels needs --images, the folder its file names are in ({images} is not one)",
            "give --images FOLDER",
        )
    classes = None if class_file is None else read_names(class_file.expanduser())
    table = read_labels(labels.expanduser(), images.expanduser(), split, classes)
    if "train" not in table.splits:
        raise DataError(
            f"{labels} has no train rows (splits: {', '.join(table.splits)})",
            "put some rows in the train split (split column, or --split train)",
        )
    return table
