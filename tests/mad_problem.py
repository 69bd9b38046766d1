"""A MAD setting for the tests: a target trained on a shortcut problem, a competitor trained on
its clean reference, and a pool from the problem's out-of-domain split, where the true class
of an image is the first folder of its path."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from robustar import Workspace
from robustar.data.problems import generate
from robustar.db.tables import Image

COUNTS = {
    "train": 300,
    "validation": 60,
    "test": 60,
    "ood": 160,  # the pool
    "reference-train": 300,
    "reference-validation": 20,
}
TRAIN = {"epochs": 8, "batch_size": 32, "learning_rate": 3e-3, "predict": False}


def make_mad_workspace(root: Path) -> Workspace:
    """Version 1 (the target) and version 2 ("clean"), both registered, the pool scored."""
    problem = generate("patch", root / "problem", counts=COUNTS, classes=5, size=24)
    with Workspace.create(root / "ref", problem.config(reference=True)) as ref:
        clean = ref.train(**TRAIN)
        weights = ref.root / clean.checkpoint
    config = problem.config()
    config.data.pool = str(problem.folder("ood"))
    ws = Workspace.create(root / "ws", config)
    ws.train(**TRAIN)
    ws.mad.import_competitor(weights, "small_cnn", "clean")
    ws.mad.score()
    return ws


def truth(ws: Workspace) -> dict[int, int]:
    with ws.session() as session:
        rows = session.execute(select(Image.id, Image.relpath).where(Image.split == "pool"))
        return {i: int(rel.split("/")[0]) for i, rel in rows}
