"""Where a workspace keeps its files; the one place that names the folders under its root."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Paths:
    root: Path

    @property
    def cache(self) -> Path:
        """Derived files (thumbnails, saliency maps, attribution indexes): safe to delete."""
        return self.root / "cache"

    @property
    def runs(self) -> Path:
        """Training runs: epoch checkpoints, TensorBoard curves, resumable state."""
        return self.root / "runs"

    def resolve(self, folder: str | Path) -> Path:
        """A configured folder: absolute as given, relative to the workspace otherwise."""
        path = Path(folder).expanduser()
        return path if path.is_absolute() else self.root / path
