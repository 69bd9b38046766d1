"""SQLAlchemy 2 tables; change them only together with a new Alembic migration."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql.expression import false
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend. SQLite keeps no offset, so values are
    stored as UTC and read back with UTC attached; the column type itself stays DateTime."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None or value.tzinfo is None:
            return value  # naive values are taken to be UTC already
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class Image(Base):
    """One image file of a split; the id is stable across rescans while the file exists."""

    __tablename__ = "images"
    __table_args__ = (
        UniqueConstraint("split", "relpath", name="uq_images_split_relpath"),
        Index("ix_images_split_label", "split", "label"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    split: Mapped[str] = mapped_column(String(16))
    relpath: Mapped[str] = mapped_column(String(1024))
    label: Mapped[int | None] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    mtime_ns: Mapped[int] = mapped_column(BigInteger)
    fingerprint: Mapped[str] = mapped_column(String(32))


class ScanProblem(Base):
    """A file in a split folder that could not be indexed (corrupt, not an image, too large)."""

    __tablename__ = "scan_problems"
    __table_args__ = (UniqueConstraint("split", "relpath", name="uq_problems_split_relpath"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    split: Mapped[str] = mapped_column(String(16))
    relpath: Mapped[str] = mapped_column(String(1024))
    message: Mapped[str] = mapped_column(Text)


class ModelVersion(Base):
    """A trained or imported model: lineage, configuration, metrics and checkpoint file."""

    __tablename__ = "model_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("model_versions.id"))
    architecture: Mapped[str] = mapped_column(String(200))
    num_classes: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(32))
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    checkpoint: Mapped[str] = mapped_column(String(1024))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    is_current: Mapped[bool] = mapped_column(Boolean, default=False)
    # "candidate": held back by the regression guard until promoted; "deleted" or "archived":
    # its files removed by gc (the row stays for lineage, curves and job results); else "ready"
    status: Mapped[str] = mapped_column(String(16), default="ready", server_default="ready")
    guard: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the guard's figures and reason
    pinned: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )  # gc keeps it
    archived_to: Mapped[str | None] = mapped_column(String(1024))  # where gc moved its files


class EpochMetric(Base):
    """Per-epoch training curve values of a model version."""

    __tablename__ = "epoch_metrics"
    __table_args__ = (UniqueConstraint("version_id", "epoch", name="uq_epoch_metrics"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id", ondelete="CASCADE"))
    epoch: Mapped[int] = mapped_column(Integer)
    train_loss: Mapped[float] = mapped_column(Float)
    train_accuracy: Mapped[float] = mapped_column(Float)
    val_loss: Mapped[float | None] = mapped_column(Float)
    val_accuracy: Mapped[float | None] = mapped_column(Float)
    test_accuracy: Mapped[float | None] = mapped_column(Float)
    learning_rate: Mapped[float] = mapped_column(Float)
    seconds: Mapped[float] = mapped_column(Float)


_FILTERS = ("correct", "predicted", "label")


class Prediction(Base):
    """The cached output of one model version on one image.

    `split` and `label` copy the image's (both are fixed for an image id), so that the
    covering indexes below answer a filtered, sorted gallery page without reading images.
    """

    __tablename__ = "predictions"
    __table_args__ = (
        Index(
            "ix_predictions_by_loss",
            "version_id",
            "split",
            "loss",
            "image_id",
            *_FILTERS,
            "confidence",
        ),
        Index(
            "ix_predictions_by_confidence",
            "version_id",
            "split",
            "confidence",
            "image_id",
            *_FILTERS,
            "loss",
        ),
    )

    version_id: Mapped[int] = mapped_column(
        ForeignKey("model_versions.id", ondelete="CASCADE"), primary_key=True
    )
    image_id: Mapped[int] = mapped_column(
        ForeignKey("images.id", ondelete="CASCADE"), primary_key=True
    )
    split: Mapped[str] = mapped_column(String(16))
    label: Mapped[int | None] = mapped_column(Integer)
    predicted: Mapped[int] = mapped_column(Integer)
    confidence: Mapped[float] = mapped_column(Float)
    loss: Mapped[float | None] = mapped_column(Float)
    correct: Mapped[bool | None] = mapped_column(Boolean)
    probabilities: Mapped[bytes] = mapped_column(LargeBinary)


class Mask(Base):
    """One saved version of an image's binary mask of one kind; the newest is current."""

    __tablename__ = "masks"
    __table_args__ = (
        UniqueConstraint("image_id", "kind", "version", name="uq_masks_version"),
        Index("ix_masks_current", "is_current", "kind", "image_id", "pixels"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer)
    author: Mapped[str] = mapped_column(String(200))
    # the team account that saved it; None: `author` is an operating-system account name
    # (local mode, or a save from before team mode: a legacy author)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    pixels: Mapped[int] = mapped_column(Integer)
    file: Mapped[str] = mapped_column(String(1024))
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)


class Job(Base):
    """A long operation run by the worker: parameters, status, progress, log and result."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_status", "status", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    stage: Mapped[str] = mapped_column(String(200), default="")
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    log: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str | None] = mapped_column(String(200))  # who queued it
    worker_pid: Mapped[int | None] = mapped_column(Integer)
    # The claimant's host (with worker_pid it names the process that runs the job) and its
    # last sign of life: a row whose heartbeat is stale, or whose local process is gone, is
    # interrupted.
    worker_host: Mapped[str | None] = mapped_column(String(255))
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Proposal(Base):
    """A machine-made mask waiting for a person: accepted, edited or rejected in review."""

    __tablename__ = "proposals"
    __table_args__ = (Index("ix_proposals_review", "status", "kind", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    method: Mapped[str] = mapped_column(String(32))
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    file: Mapped[str] = mapped_column(String(1024))
    pixels: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reviewed_by: Mapped[str | None] = mapped_column(String(200))


class Suspicion(Base):
    """A training image's harmful influence on the misclassified test images, per version
    (the suspicious queue, stored when an index is built so galleries can filter and sort by
    it): `rank` in the default (balanced) queue, `queued` for its top K."""

    __tablename__ = "suspicion"

    version_id: Mapped[int] = mapped_column(
        ForeignKey("model_versions.id", ondelete="CASCADE"), primary_key=True
    )
    image_id: Mapped[int] = mapped_column(
        ForeignKey("images.id", ondelete="CASCADE"), primary_key=True
    )
    method: Mapped[str] = mapped_column(String(16))
    score: Mapped[float] = mapped_column(Float)
    rank: Mapped[int] = mapped_column(Integer)
    queued: Mapped[bool] = mapped_column(Boolean)


class User(Base):
    """A team-mode account. Never deleted (authorship points at it): disabled instead."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))  # admin, annotator or viewer
    password_hash: Mapped[str] = mapped_column(String(255))  # argon2 (pwdlib)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Credential(Base):
    """A login session (cookie) or a personal API token (Bearer) of a user. Only the SHA-256
    of the random secret is stored; deleting the row revokes it."""

    __tablename__ = "credentials"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # session or token
    label: Mapped[str] = mapped_column(String(200), default="")
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AuditEntry(Base):
    """One state change: who (an account or an OS account name), what, when."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(100))
    target: Mapped[str] = mapped_column(String(1024), default="")


class Assignment(Base):
    """An image given to an account to make a mask of `kind` (team mode's work queues). One
    row per image and kind: assigning it again moves it. Whether it is done is not stored:
    a mask version of that kind saved after `created_at` makes it done (see Assignments)."""

    __tablename__ = "assignments"
    __table_args__ = (
        UniqueConstraint("image_id", "kind", name="uq_assignments_image_kind"),
        Index("ix_assignments_user", "user_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    batch: Mapped[str] = mapped_column(String(200))  # what was assigned together, in words
    assigned_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MadModel(Base):
    """A model version taking part in MAD with its own input settings; `class_map` maps each of
    its outputs onto a class index of this workspace (None: the same class list)."""

    __tablename__ = "mad_models"

    version_id: Mapped[int] = mapped_column(
        ForeignKey("model_versions.id", ondelete="CASCADE"), primary_key=True
    )
    size: Mapped[int] = mapped_column(Integer)
    mean: Mapped[list[float]] = mapped_column(JSON)
    std: Mapped[list[float]] = mapped_column(JSON)
    class_map: Mapped[list[int] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MadScore(Base):
    """One model's answer on one pool image, kept compact: the top class and its probability,
    the entropy, and the top-k classes with float16 probabilities (`top`)."""

    __tablename__ = "mad_scores"
    __table_args__ = (Index("ix_mad_scores_image", "image_id"),)

    version_id: Mapped[int] = mapped_column(
        ForeignKey("model_versions.id", ondelete="CASCADE"), primary_key=True
    )
    image_id: Mapped[int] = mapped_column(
        ForeignKey("images.id", ondelete="CASCADE"), primary_key=True
    )
    predicted: Mapped[int] = mapped_column(Integer)
    confidence: Mapped[float] = mapped_column(Float)
    entropy: Mapped[float] = mapped_column(Float)
    top: Mapped[bytes] = mapped_column(LargeBinary)


class MadRound(Base):
    """One round of MAD: the target, its competitors, the selection settings, and the version
    its fine-tune made (when it ran)."""

    __tablename__ = "mad_rounds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id", ondelete="CASCADE"))
    competitors: Mapped[list[int]] = mapped_column(JSON)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON)
    finetuned_id: Mapped[int | None] = mapped_column(
        ForeignKey("model_versions.id", ondelete="SET NULL")
    )
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MadCandidate(Base):
    """A pool image a round selected: the pair that disagreed on it, which model led the
    selection, the class distance; `purpose` is set when it is picked for a strong label
    (train: the n4 worst by opinion score; test: the round's held-back test set)."""

    __tablename__ = "mad_candidates"
    __table_args__ = (UniqueConstraint("round_id", "image_id", name="uq_mad_candidates_image"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("mad_rounds.id", ondelete="CASCADE"))
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"))
    rank: Mapped[int] = mapped_column(Integer)
    competitor_id: Mapped[int] = mapped_column(Integer)
    led_by: Mapped[str] = mapped_column(String(16))  # target or competitor
    distance: Mapped[float] = mapped_column(Float)
    target_class: Mapped[int] = mapped_column(Integer)
    target_confidence: Mapped[float] = mapped_column(Float)
    competitor_class: Mapped[int] = mapped_column(Integer)
    competitor_confidence: Mapped[float] = mapped_column(Float)
    purpose: Mapped[str | None] = mapped_column(String(8))


class MadRating(Base):
    """One opinion of a rater on a candidate's prediction: 1..5 or out of domain. Never
    changed: a later rating of the same image by the same rater supersedes it, and an undo
    sets `withdrawn_at`, so the history stays."""

    __tablename__ = "mad_ratings"
    __table_args__ = (Index("ix_mad_ratings_round_rater", "round_id", "rater", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("mad_rounds.id", ondelete="CASCADE"))
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"))
    rater: Mapped[str] = mapped_column(String(200))
    score: Mapped[int | None] = mapped_column(Integer)
    out_of_domain: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class MadLabel(Base):
    """The true class a person gave a picked candidate: the new labelled set, kept apart from
    the training data."""

    __tablename__ = "mad_labels"
    __table_args__ = (UniqueConstraint("round_id", "image_id", name="uq_mad_labels_image"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("mad_rounds.id", ondelete="CASCADE"))
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"))
    label: Mapped[int] = mapped_column(Integer)
    author: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class EditRun(Base):
    """One attribute-edit robustness benchmark of a model version over a split: the options
    it ran with, the counts per (edit, seed, class) and the images skipped per reason. Edited
    images are not stored: (image, edit, seed) regenerates each."""

    __tablename__ = "edit_runs"
    __table_args__ = (Index("ix_edit_runs_version", "version_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id", ondelete="CASCADE"))
    split: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # edits, seeds, backend
    images: Mapped[int] = mapped_column(Integer, default=0)  # images with an object mask
    # [[edit label, seed, class index, images, right before, right after], ...]
    counts: Mapped[list[Any]] = mapped_column(JSON, default=list)
    skipped: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # {edit: {reason: n}}
    # {edit label or "original": {"object_rate": mean, "complexity": mean}}; None before 0017
    measures: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class EditFlip(Base):
    """An image whose prediction an edit changed from right to wrong (or back)."""

    __tablename__ = "edit_flips"
    __table_args__ = (Index("ix_edit_flips_run", "run_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("edit_runs.id", ondelete="CASCADE"))
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"))
    edit: Mapped[dict[str, Any]] = mapped_column(JSON)  # {"name": ..., "options": {...}}
    label: Mapped[str] = mapped_column(String(200))  # the edit's row name in the table
    seed: Mapped[int] = mapped_column(Integer)
    truth: Mapped[int] = mapped_column(Integer)
    before: Mapped[int] = mapped_column(Integer)
    after: Mapped[int] = mapped_column(Integer)


class DefuseRun(Base):
    """One Defuse run: its VAE (settings, curves, file), the search of one classifier
    version's errors (settings, how far it got, flips per radius) and the region settings."""

    __tablename__ = "defuse_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    author: Mapped[str] = mapped_column(String(200))
    image_size: Mapped[int] = mapped_column(Integer)
    latent: Mapped[int] = mapped_column(Integer)
    vae: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # VaeSettings
    curves: Mapped[list[Any]] = mapped_column(JSON, default=list)
    vae_file: Mapped[str | None] = mapped_column(String(1024))  # relative to the root
    version_id: Mapped[int | None] = mapped_column(
        ForeignKey("model_versions.id", ondelete="SET NULL")
    )
    search: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # SearchSettings
    searched_upto: Mapped[int] = mapped_column(Integer, default=0)  # last image id searched
    searched_images: Mapped[int] = mapped_column(Integer, default=0)
    drawn: Mapped[list[Any]] = mapped_column(JSON, default=list)  # samples per radius
    flips: Mapped[list[Any]] = mapped_column(JSON, default=list)  # flipped per radius
    search_done: Mapped[bool] = mapped_column(Boolean, default=False)
    regions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # RegionSettings


class DefuseCode(Base):
    """A kept error of the search: a latent code whose decoding the classifier labels
    differently from its source training image."""

    __tablename__ = "defuse_codes"
    __table_args__ = (Index("ix_defuse_codes_run", "run_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("defuse_runs.id", ondelete="CASCADE"))
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"))
    label: Mapped[int] = mapped_column(Integer)
    predicted: Mapped[int] = mapped_column(Integer)
    radius: Mapped[float] = mapped_column(Float)
    norm: Mapped[float] = mapped_column(Float)
    code: Mapped[bytes] = mapped_column(LargeBinary)  # float32, one per latent dimension


class DefuseRegion(Base):
    """An error region: a heavy mixture component, its sampled codes (training and held
    out, float32 blobs), the classifier's predictions on them, and a person's label."""

    __tablename__ = "defuse_regions"
    __table_args__ = (Index("ix_defuse_regions_run", "run_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("defuse_runs.id", ondelete="CASCADE"))
    component: Mapped[int] = mapped_column(Integer)
    weight: Mapped[float] = mapped_column(Float)
    size: Mapped[int] = mapped_column(Integer)
    mean: Mapped[bytes] = mapped_column(LargeBinary)
    samples: Mapped[bytes] = mapped_column(LargeBinary)
    held_out: Mapped[bytes] = mapped_column(LargeBinary)
    predicted: Mapped[list[Any]] = mapped_column(JSON, default=list)
    held_predicted: Mapped[list[Any]] = mapped_column(JSON, default=list)
    label: Mapped[int | None] = mapped_column(Integer)
    unrecognisable: Mapped[bool] = mapped_column(Boolean, default=False)
    author: Mapped[str | None] = mapped_column(String(200))
    labelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class DefuseCorrection(Base):
    """One fine-tune of a correction sweep (λ, or the region-only baseline): the version it
    made and its accuracies before and after."""

    __tablename__ = "defuse_corrections"
    __table_args__ = (Index("ix_defuse_corrections_run", "run_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("defuse_runs.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    mode: Mapped[str] = mapped_column(String(16))  # "mixed" or "baseline"
    weight: Mapped[float] = mapped_column(Float)
    version_id: Mapped[int | None] = mapped_column(
        ForeignKey("model_versions.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(String(32))
    report: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class SegScore(Base):
    """A segmenter's scores on one image (segmentation workspaces): mIoU and pixel accuracy
    (NULL when the image has no labelled pixels), IoU per class, and the share of each class
    in the truth and in the prediction, kept small so a split streams into rows, never maps.
    `split` copies the image's so the gallery's mIoU sort reads one index."""

    __tablename__ = "seg_scores"
    __table_args__ = (Index("ix_seg_scores_by_miou", "version_id", "split", "miou", "image_id"),)

    version_id: Mapped[int] = mapped_column(
        ForeignKey("model_versions.id", ondelete="CASCADE"), primary_key=True
    )
    image_id: Mapped[int] = mapped_column(
        ForeignKey("images.id", ondelete="CASCADE"), primary_key=True
    )
    split: Mapped[str] = mapped_column(String(16))
    miou: Mapped[float | None] = mapped_column(Float)
    pixel_accuracy: Mapped[float | None] = mapped_column(Float)
    iou: Mapped[list[Any]] = mapped_column(JSON, default=list)
    truth_shares: Mapped[list[Any] | None] = mapped_column(JSON)
    predicted_shares: Mapped[list[Any]] = mapped_column(JSON, default=list)


class SegClassShare(Base):
    """One class's pixel share in an image, in its truth and in a version's prediction (a
    row only where the class is present in either), for the gallery's class filter and
    share sort."""

    __tablename__ = "seg_class_shares"
    __table_args__ = (
        Index("ix_seg_class_shares_by_class", "version_id", "class_index", "image_id"),
    )

    version_id: Mapped[int] = mapped_column(
        ForeignKey("model_versions.id", ondelete="CASCADE"), primary_key=True
    )
    image_id: Mapped[int] = mapped_column(
        ForeignKey("images.id", ondelete="CASCADE"), primary_key=True
    )
    class_index: Mapped[int] = mapped_column(Integer, primary_key=True)
    truth: Mapped[float | None] = mapped_column(Float)
    predicted: Mapped[float] = mapped_column(Float)


class SegSplitScore(Base):
    """A segmenter's scores on a whole split: its summed confusion matrix (rows truth,
    columns prediction) and what follows from it."""

    __tablename__ = "seg_split_scores"

    version_id: Mapped[int] = mapped_column(
        ForeignKey("model_versions.id", ondelete="CASCADE"), primary_key=True
    )
    split: Mapped[str] = mapped_column(String(16), primary_key=True)
    images: Mapped[int] = mapped_column(Integer)
    miou: Mapped[float | None] = mapped_column(Float)
    pixel_accuracy: Mapped[float | None] = mapped_column(Float)
    iou: Mapped[list[Any]] = mapped_column(JSON, default=list)
    confusion: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
