"""The model versions of a workspace: which is current, their weights, imported checkpoints."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from sqlalchemy.orm import Session

from robustar.config import ImageConfig, RuntimeConfig
from robustar.db.session import Database
from robustar.db.tables import ModelVersion
from robustar.errors import NotFoundError
from robustar.models.checkpoint import (
    UPLOAD,
    Checkpoint,
    apply_state_dict,
    load_weights,
    read_checkpoint,
)
from robustar.models.device import select_device
from robustar.models.inputs import (
    from_architecture,
    from_checkpoint,
    mismatches,
    write_metadata,
)
from robustar.models.registry import CLASSIFICATION, Task, create_model
from robustar.models.versions import (
    READY,
    EpochResult,
    GuardReport,
    VersionInfo,
    add_version,
    check_present,
    current_version,
    epoch_metrics,
    get_version,
    list_versions,
    set_current,
    settle,
    staging_dir,
    to_info,
)


class ModelStore:
    def __init__(
        self,
        db: Database,
        root: Path,
        num_classes: int,
        architecture: str,
        runtime: RuntimeConfig,
        image: ImageConfig,
        task: Task = CLASSIFICATION,
    ) -> None:
        self.db = db
        self.task = task  # every network built here is of the workspace's task
        self.root = root
        self.num_classes = num_classes
        self.architecture = architecture  # the configured one, for imports that name none
        self._runtime = runtime
        self._image = image  # what imported weights are checked against

    @property
    def device(self) -> torch.device:
        """Where models run: `[runtime] device` (auto: cuda, then mps, then cpu), read at each
        use so a changed setting applies."""
        return select_device(self._runtime.device)

    def versions(self) -> list[VersionInfo]:
        with self.db.session() as session:
            return list_versions(session)

    def current(self) -> VersionInfo | None:
        with self.db.session() as session:
            row = current_version(session)
            return None if row is None else to_info(row)

    def get(self, version: int | None = None) -> VersionInfo:
        """A version by id, or the current one; a clear error when there is none."""
        with self.db.session() as session:
            return to_info(self.require(session, version))

    def version_id(self, session: Session, version: int | None) -> int | None:
        """The given version's id (checked), else the current one's, else None."""
        if version is not None:
            return get_version(session, version).id
        row = current_version(session)
        return None if row is None else row.id

    def require(self, session: Session, version: int | None) -> ModelVersion:
        version_id = self.version_id(session, version)
        if version_id is None:
            raise NotFoundError(
                "this workspace has no model version yet",
                f"train one with 'robustar train {self.root}' or import a checkpoint with "
                f"'robustar models import {self.root} PATH'",
                "train one with ws.train(...) or import a checkpoint with ws.import_model(path)",
            )
        return get_version(session, version_id)

    def load(self, version: int | None = None) -> torch.nn.Module:
        """The (current or given) version's network with its weights, on the CPU."""
        with self.db.session() as session:
            info = to_info(check_present(self.require(session, version)))
        model = create_model(info.architecture, info.num_classes, self.task)
        return load_weights(model, self.root / info.checkpoint, info.num_classes)

    def use(self, version: int) -> VersionInfo:
        """Make a version current; a candidate is promoted."""
        with self.db.session() as session:
            set_current(session, version)
            return to_info(get_version(session, version))

    def settle(self, version: int, report: GuardReport) -> VersionInfo:
        """Record the regression guard's verdict: current if it passed, else a candidate."""
        with self.db.session() as session:
            return to_info(settle(session, version, report))

    def pin(self, version: int, pinned: bool = True) -> VersionInfo:
        """Pin a version so that gc keeps it (or unpin it)."""
        with self.db.session() as session:
            row = get_version(session, version)
            row.pinned = pinned
            return to_info(row)

    def training_curves(self, version: int) -> list[EpochResult]:
        with self.db.session() as session:
            return epoch_metrics(session, version)

    def import_checkpoint(
        self,
        checkpoint: str | Path,
        architecture: str | None = None,
        name: str | None = None,
        *,
        num_classes: int | None = None,
        current: bool = True,
        check: Callable[[torch.nn.Module], None] | None = None,
    ) -> VersionInfo:
        """Check that the weights fit, then store them (as safetensors) as the current version
        (or, with `current=False`, beside it: a competing model with `num_classes` outputs);
        `check` may refuse the loaded network before anything is stored."""
        path = Path(checkpoint).expanduser()
        return self.import_weights(
            read_checkpoint(path),
            architecture,
            name,
            source=str(path),
            num_classes=num_classes,
            current=current,
            check=check,
        )

    def import_weights(
        self,
        checkpoint: Checkpoint,
        architecture: str | None = None,
        name: str | None = None,
        source: str = UPLOAD,
        *,
        num_classes: int | None = None,
        current: bool = True,
        check: Callable[[torch.nn.Module], None] | None = None,
    ) -> VersionInfo:
        """`import_checkpoint` for weights already in memory (an upload); `source` names them.
        Input settings the weights or the architecture declare otherwise than [image] are
        recorded as `warnings` in the version's config."""
        architecture = architecture or self.architecture
        outputs = num_classes or self.num_classes
        model = create_model(architecture, outputs, self.task)
        apply_state_dict(model, checkpoint.state, source, outputs)
        if check is not None:
            check(model)
        declared = from_checkpoint(checkpoint.metadata) or from_architecture(model)
        warnings = mismatches(declared, self._image)
        settings = {"mean": self._image.mean, "std": self._image.std, "size": self._image.size}
        with staging_dir(self.root) as staged, self.db.session() as session:
            row = add_version(
                session,
                self.root,
                staged,
                model,
                name=name,
                parent_id=None,
                architecture=architecture,
                num_classes=outputs,
                source="imported",
                config={"checkpoint": source, "input": settings, "warnings": warnings},
                current=current,
                metadata=write_metadata(self._image),
            )
            row.status = READY  # beside the current one, not a candidate for the guard
            return to_info(row)
