"""A Defuse setting for the tests: a classifier trained on digits with a rare inverted style
(a few percent of training), and an oracle trained on the balanced split that includes it,
imported beside it (not current) to label regions."""

from __future__ import annotations

from pathlib import Path

from robustar import Workspace
from robustar.data.problems import generate_rare

COUNTS = {"train": 240, "validation": 40, "test": 60, "rare-test": 40, "oracle-train": 240}
TRAIN = {"epochs": 3, "batch_size": 32, "learning_rate": 3e-3, "predict": False}
VAE = {"image_size": 16, "latent": 4, "epochs": 2, "batch_size": 32, "warmup_epochs": 1}
SEARCH = {"samples": 4, "radii": [10.0, 40.0], "batch_size": 64}


def make_defuse_workspace(root: Path) -> tuple[Workspace, int]:
    """The workspace (version 1 current) and the oracle's version id."""
    problem = generate_rare(
        root / "problem", style="rotated", share=0.05, classes=3, size=24, counts=COUNTS
    )
    with Workspace.create(root / "oracle", problem.config(oracle=True)) as oracle_ws:
        oracle = oracle_ws.train(**TRAIN)
        weights = oracle_ws.root / oracle.checkpoint
    ws = Workspace.create(root / "ws", problem.config())
    ws.train(**TRAIN)
    imported = ws.model_store.import_checkpoint(weights, "small_cnn", "oracle", current=False)
    return ws, imported.id
