"""`Workspace.mad`: competitors, pool scoring, rounds, ratings, strong labels, fine-tuning on
them, the per-round table and the model ranking; what the Python API, the CLI, the REST
routes and the job handlers call."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import ValidationError
from sqlalchemy import select

from robustar.accounts import actor
from robustar.config import ImageConfig, RuntimeConfig
from robustar.data.dataset import ImageDataset, IndexedImage
from robustar.data.images import ImageStore
from robustar.data.transforms import ModelInput
from robustar.db.tables import Image, MadRound, ModelVersion
from robustar.discover.mad import ratings
from robustar.discover.mad import rounds as round_store
from robustar.discover.mad.competitors import (
    MAP_FIX,
    Competitor,
    check_fits,
    get,
    load_class_map,
    read_class_map,
    register,
    registered,
)
from robustar.discover.mad.hierarchy import distances, load_tree, read_tree
from robustar.discover.mad.ranking import Ranking, rank
from robustar.discover.mad.ratings import Agreement, ExportFormat, Opinion, Rating
from robustar.discover.mad.rounds import CandidateInfo, RoundInfo
from robustar.discover.mad.scores import POOL, score_pool, score_rows
from robustar.discover.mad.settings import MadSettings
from robustar.errors import ConfigError, DataError
from robustar.models.store import ModelStore
from robustar.models.versions import VersionInfo
from robustar.predict.engine import infer, make_loader
from robustar.progress import ProgressCallback

ClassMap = str | Path | Sequence[str | None]
Tree = str | Path | dict[str, str | None]
Trainer = Callable[..., VersionInfo]
FINETUNE_EPOCHS = 5


@dataclass(frozen=True)
class TableColumn:
    key: str  # "original" or "round <id>"
    title: str
    images: int


@dataclass(frozen=True)
class TableRow:
    version_id: int
    name: str
    role: str
    accuracy: list[float | None]  # one per column


@dataclass(frozen=True)
class RoundsTable:
    """MAD's Table 1: accuracy on the original test set and on each round's test set."""

    columns: list[TableColumn]
    rows: list[TableRow]


class Mad:
    """Failure discovery by maximum discrepancy between a target model and its competitors."""

    def __init__(
        self, images: ImageStore, models: ModelStore, runtime: RuntimeConfig, train: Trainer
    ) -> None:
        self.images = images
        self.models = models
        self.runtime = runtime
        self._train = train
        self._accuracy: dict[tuple[int, tuple[tuple[int, int], ...]], float] = {}

    @property
    def classes(self) -> list[str]:
        return self.images.classes

    # ----- competitors -----------------------------------------------------------------

    def _image(
        self, name: str, size: int | None, mean: list[float] | None, std: list[float] | None
    ) -> ImageConfig:
        changes = {"size": size, "mean": mean, "std": std}
        try:
            return ImageConfig.model_validate(
                {**self.images.config.model_dump(), **{k: v for k, v in changes.items() if v}}
            )
        except ValidationError as error:
            problem = error.errors()[0]
            raise ConfigError(
                f"image settings of model {name}: {'.'.join(map(str, problem['loc']))}: "
                f"{problem['msg']}",
                "give the size (8..4096) and three mean and std values the model was trained with",
            ) from None

    def _class_map(self, class_map: ClassMap | None, outputs: int) -> list[int] | None:
        if class_map is None:
            if outputs != len(self.classes):
                raise DataError(
                    f"the model has {outputs} outputs, this workspace {len(self.classes)} classes",
                    MAP_FIX,
                )
            return None
        if isinstance(class_map, str | Path):
            return load_class_map(class_map, self.classes, outputs)
        return read_class_map(json.dumps(list(class_map)), self.classes, outputs)

    def add(
        self,
        version: int,
        *,
        image_size: int | None = None,
        mean: list[float] | None = None,
        std: list[float] | None = None,
        class_map: ClassMap | None = None,
    ) -> Competitor:
        """Register a model version for MAD with the input settings it was trained with
        (default: the workspace's) and, for another class list, a map onto ours."""
        info = self.models.get(version)
        image = self._image(info.name, image_size, mean, std)
        mapping = self._class_map(class_map, info.num_classes)
        check_fits(self.models.load(version), image.size, info.num_classes, info.name)
        with self.images.db.session() as session:
            row = session.get(ModelVersion, info.id)
            assert row is not None
            return register(session, row, image, self.classes, mapping)

    def import_competitor(
        self,
        checkpoint: str | Path,
        architecture: str | None = None,
        name: str | None = None,
        *,
        num_classes: int | None = None,
        image_size: int | None = None,
        mean: list[float] | None = None,
        std: list[float] | None = None,
        class_map: ClassMap | None = None,
    ) -> Competitor:
        """Import user weights beside the current version (not made current) and register
        them; every check runs before anything is stored."""
        outputs = num_classes or len(self.classes)
        label = name or Path(checkpoint).name
        image = self._image(label, image_size, mean, std)
        self._class_map(class_map, outputs)
        version = self.models.import_checkpoint(
            checkpoint,
            architecture,
            name,
            num_classes=outputs,
            current=False,
            check=lambda model: check_fits(model, image.size, outputs, label),
        )
        return self.add(version.id, image_size=image_size, mean=mean, std=std, class_map=class_map)

    def competitors(self) -> list[Competitor]:
        with self.images.db.session() as session:
            return registered(session)

    def competitor(self, version: int) -> Competitor:
        with self.images.db.session() as session:
            return get(session, version)

    def _ensure(self, version: int) -> Competitor:
        """The version's registration; a version not yet registered takes the workspace's
        input settings (the target and its fine-tunes)."""
        with self.images.db.session() as session:
            known = {c.version_id for c in registered(session)}
        return self.competitor(version) if version in known else self.add(version)

    # ----- scoring -----------------------------------------------------------------------

    def _dataset(self, competitor: Competitor, ids: list[int]) -> ImageDataset:
        """Any images by id as this model sees them (its size and normalisation)."""
        with self.images.db.session() as session:
            rows = session.execute(
                select(Image.id, Image.split, Image.relpath, Image.label)
                .where(Image.id.in_(ids))
                .order_by(Image.id)
            ).all()
        items = [IndexedImage(r.id, self.images.folder(r.split) / r.relpath, r.label) for r in rows]
        transform = ModelInput(competitor.image_config(self.images.config))
        return ImageDataset(items, transform, self.images.reading)

    def score(
        self, versions: list[int] | None = None, progress: ProgressCallback = None
    ) -> dict[int, int]:
        """Score the pool with every registered model (or `versions`): only images a model
        has no row for, so a stopped run resumes. Returns images scored per version."""
        current = self.models.current()
        if versions is None and current is not None:
            self._ensure(current.id)
        chosen = versions or [c.version_id for c in self.competitors()]
        if not chosen:
            raise ConfigError(
                "no model is registered for MAD",
                "register the target and competitors: robustar discover mad add WS --version N",
            )
        self.images.folder(POOL)
        device = self.models.device
        done = {}
        for version in chosen:
            competitor = self._ensure(version)
            model = self.models.load(version).to(device)
            done[version] = score_pool(
                self.images.db.session,
                lambda ids, c=competitor: self._dataset(c, ids),  # type: ignore[misc]
                version,
                model,
                competitor.class_map,
                len(self.classes),
                device,
                self.runtime.batch_size,
                self.runtime.workers,
                progress,
                f"score pool with {competitor.name}",
            )
        return done

    def predict_ids(self, version: int, ids: list[int]) -> dict[int, int]:
        """The class (of this workspace) a version predicts for each image, not stored."""
        competitor = self._ensure(version)
        device = self.models.device
        model = self.models.load(version).to(device)
        loader = make_loader(
            self._dataset(competitor, ids), self.runtime.batch_size, self.runtime.workers, device
        )
        found: dict[int, int] = {}
        for logits, _, batch in infer(model, loader, device):
            rows = score_rows(version, logits, batch, competitor.class_map, len(self.classes))
            found.update({r["image_id"]: r["predicted"] for r in rows})
        return found

    def accuracy(self, version: int, truth: dict[int, int]) -> float | None:
        """Accuracy of a version on images with known classes (cached per image set)."""
        if not truth:
            return None
        key = (version, tuple(sorted(truth.items())))
        if key not in self._accuracy:
            predicted = self.predict_ids(version, sorted(truth))
            hits = sum(predicted[i] == c for i, c in truth.items())
            self._accuracy[key] = hits / len(truth)
        return self._accuracy[key]

    # ----- rounds ------------------------------------------------------------------------

    def _distance(self, tree: Tree | None) -> tuple[np.ndarray, dict[str, str | None] | None]:
        if tree is None:
            return distances(self.classes, None), None
        parents = load_tree(tree) if isinstance(tree, str | Path) else read_tree(json.dumps(tree))
        return distances(self.classes, parents), parents

    def round(
        self,
        target: int | None = None,
        competitors: list[int] | None = None,
        tree: Tree | None = None,
        **settings: object,
    ) -> RoundInfo:
        """Select a round's candidates: target (default: the last round's fine-tuned version,
        else the current one) against
        competitors (default: every other registered model); `settings` are `MadSettings`'
        (threshold, per_pair, per_class, pair_once, worst, test_size, test_per_class, seed)."""
        options = MadSettings.model_validate(settings)
        target_id = self.models.get(target if target is not None else self._next_target()).id
        self._ensure(target_id)
        others = competitors or [
            c.version_id for c in self.competitors() if c.version_id != target_id
        ]
        for version in others:
            self.competitor(version)
        matrix, parents = self._distance(tree)
        with self.images.db.session() as session:
            round_id = round_store.create_round(
                session, target_id, others, options, matrix, parents, actor.current().name
            )
            return round_store.info(session, round_store.round_row(session, round_id))

    def _next_target(self) -> int | None:
        """The last round's fine-tuned version (it may be a candidate the guard held back:
        its validation set shares the old shortcut), else the current version."""
        with self.images.db.session() as session:
            last = session.scalar(
                select(MadRound.finetuned_id)
                .where(MadRound.finetuned_id.is_not(None))
                .order_by(MadRound.id.desc())
                .limit(1)
            )
        return last

    def rounds(self) -> list[RoundInfo]:
        with self.images.db.session() as session:
            rows = session.scalars(select(MadRound).order_by(MadRound.id))
            return [round_store.info(session, r) for r in rows]

    def get_round(self, round_id: int) -> RoundInfo:
        with self.images.db.session() as session:
            return round_store.info(session, round_store.round_row(session, round_id))

    def candidates(self, round_id: int) -> list[CandidateInfo]:
        with self.images.db.session() as session:
            round_store.round_row(session, round_id)
            return round_store.candidates(session, round_id)

    def next_candidate(self, round_id: int, rater: str | None = None) -> CandidateInfo | None:
        """The first candidate (in rank order) the rater has no active rating of."""
        rater = rater or actor.current().name
        with self.images.db.session() as session:
            round_store.round_row(session, round_id)
            done = {r.image_id for r in ratings.active(session, round_id) if r.rater == rater}
            return next(
                (c for c in round_store.candidates(session, round_id) if c.image_id not in done),
                None,
            )

    # ----- ratings -----------------------------------------------------------------------

    def rate(self, round_id: int, image_id: int, score: int, rater: str | None = None) -> Rating:
        """Rate a candidate's prediction 1 (bad) .. 5 (excellent), or 0: out of domain."""
        with self.images.db.session() as session:
            round_store.round_row(session, round_id)
            return ratings.rate(session, round_id, image_id, rater or actor.current().name, score)

    def import_ratings(self, round_id: int, text: str) -> int:
        """Ratings from another tool (CSV image_id,rater,score or JSON); all or none."""
        rows = ratings.parse(text)
        with self.images.db.session() as session:
            round_store.round_row(session, round_id)
            for image, rater, score in rows:
                ratings.rate(session, round_id, image, rater, score)
        return len(rows)

    def undo(self, round_id: int, rater: str | None = None) -> Rating | None:
        with self.images.db.session() as session:
            round_store.round_row(session, round_id)
            return ratings.undo(session, round_id, rater or actor.current().name)

    def ratings(self, round_id: int, history: bool = False) -> list[Rating]:
        with self.images.db.session() as session:
            round_store.round_row(session, round_id)
            found = ratings.history if history else ratings.active
            return found(session, round_id)

    def export_ratings(self, round_id: int, format: ExportFormat, history: bool = False) -> str:
        return ratings.export(self.ratings(round_id, history), format)

    def opinions(self, round_id: int) -> list[Opinion]:
        with self.images.db.session() as session:
            round_store.round_row(session, round_id)
            return ratings.opinions(session, round_id)

    def agreement(self, round_id: int) -> Agreement:
        return ratings.agreement(self.ratings(round_id))

    # ----- strong labels and fine-tuning -------------------------------------------------

    def _settings(self, round_id: int) -> MadSettings:
        info = self.get_round(round_id)
        return MadSettings.model_validate(
            {k: v for k, v in info.settings.items() if k in MadSettings.model_fields}
        )

    def pick(self, round_id: int) -> tuple[list[int], list[int]]:
        """Pick the images to label: (the n4 worst rated: train, the held-back test set)."""
        settings = self._settings(round_id)
        found = self.opinions(round_id)
        with self.images.db.session() as session:
            return round_store.pick(session, round_id, found, settings)

    def queue(self, round_id: int) -> list[CandidateInfo]:
        """Picked candidates still without a true class."""
        return [c for c in self.candidates(round_id) if c.purpose and c.label is None]

    def label(self, round_id: int, image_id: int, value: int | str) -> None:
        index = self.images.class_index(value)
        assert index is not None
        with self.images.db.session() as session:
            round_store.round_row(session, round_id)
            round_store.label(
                session, round_id, image_id, index, len(self.classes), actor.current().name
            )

    def labelled(self, round_id: int, purpose: str = round_store.TRAIN) -> dict[int, int]:
        """The true classes of a round's picks for `purpose` (train or test)."""
        with self.images.db.session() as session:
            return round_store.labelled(session, purpose, [round_id])

    def new_training_set(self, round_id: int) -> ImageDataset:
        """The labelled counterexamples of this round and every earlier one."""
        with self.images.db.session() as session:
            upto = list(session.scalars(select(MadRound.id).where(MadRound.id <= round_id)))
            found = round_store.labelled(session, round_store.TRAIN, upto)
            rows = session.execute(
                select(Image.id, Image.relpath).where(Image.id.in_(list(found))).order_by(Image.id)
            ).all()
        folder = self.images.folder(POOL)
        items = [IndexedImage(r.id, folder / r.relpath, found[r.id]) for r in rows]
        return ImageDataset(items, self.images.transform, self.images.reading)

    def finetune(
        self, round_id: int, progress: ProgressCallback = None, **options: object
    ) -> VersionInfo:
        """Fine-tune the round's target on its labelled counterexamples (and earlier rounds'),
        mixed 1:1 with the training split; the new version is the next round's target."""
        info = self.get_round(round_id)
        extra = self.new_training_set(round_id)
        if not len(extra):
            raise DataError(
                f"MAD round {round_id} has no labelled training picks",
                "pick (ws.mad.pick) and label them (ws.mad.label) first",
            )
        settings = {"init": "current", "epochs": FINETUNE_EPOCHS, **options}
        version = self._train(progress=progress, parent=info.target_id, extra=extra, **settings)
        with self.images.db.session() as session:
            round_store.round_row(session, round_id).finetuned_id = version.id
        self.score([version.id], progress)
        return version

    # ----- results -------------------------------------------------------------------------

    def _original_test(self) -> dict[int, int]:
        if "test" not in self.images.folders:
            return {}
        with self.images.db.session() as session:
            rows = session.execute(
                select(Image.id, Image.label).where(Image.split == "test", Image.label.is_not(None))
            )
            return {i: c for i, c in rows if c is not None}

    def table(self) -> RoundsTable:
        """Accuracy of every model of the rounds on the original test set and on each round's
        held-back test set (the paper's Table 1)."""
        found = self.rounds()
        columns: list[TableColumn] = []
        truths: list[dict[int, int]] = []
        original = self._original_test()
        if original:
            columns.append(TableColumn("original", "original test", len(original)))
            truths.append(original)
        for info in found:
            test = self.labelled(info.id, round_store.TEST)
            if test:
                columns.append(TableColumn(f"round {info.id}", f"round {info.id} test", len(test)))
                truths.append(test)
        roles: dict[int, str] = {}
        for k, info in enumerate(found, 1):
            roles.setdefault(info.target_id, f"target, round {k}")
            if info.finetuned_id is not None:
                roles.setdefault(info.finetuned_id, f"fine-tuned in round {k}")
            for version in info.competitors:
                roles.setdefault(version, "competitor")
        rows = [
            TableRow(
                version,
                self.models.get(version).name,
                role,
                [self.accuracy(version, truth) for truth in truths],
            )
            for version, role in roles.items()
        ]
        return RoundsTable(columns, rows)

    def ranking(
        self,
        versions: list[int] | None = None,
        labels: dict[int, int] | None = None,
        tree: Tree | None = None,
        threshold: float | None = None,
        **settings: object,
    ) -> Ranking:
        """Rank models (default: every registered one) by their pairwise MAD contests on
        pool images with a known class: the strong labels given in rounds, plus `labels`
        (image id -> class). Accuracy on the test split is the labelled reference.

        Unlike a round, the ranking's default threshold admits every disagreement: each pair
        then gets its `per_pair` contests, as in the MAD competition. At a round's 0.8 a
        model that is seldom confident enters almost no contest and is never found wrong
        (bench/mad.py: Kendall tau -0.18 at 0.8 against 0.91 with every disagreement)."""
        lowest = 1 / len(self.classes)  # a top-1 probability is never below it
        options = MadSettings.model_validate({"threshold": threshold or lowest, **settings})
        chosen = versions or [c.version_id for c in self.competitors()]
        if len(chosen) < 2:
            raise ConfigError(
                "ranking needs at least two registered models",
                "register more: robustar discover mad add WS --version N",
            )
        with self.images.db.session() as session:
            round_store.check_ready(session, chosen)
        truth = {**self._strong_labels(), **(labels or {})}
        original = self._original_test()
        accuracy = {v: a for v in chosen if (a := self.accuracy(v, original)) is not None}
        matrix, _ = self._distance(tree)
        with self.images.db.session() as session:
            return rank(session, chosen, options, matrix, truth, accuracy)

    def _strong_labels(self) -> dict[int, int]:
        with self.images.db.session() as session:
            ids = list(session.scalars(select(MadRound.id)))
            return {
                **round_store.labelled(session, round_store.TRAIN, ids),
                **round_store.labelled(session, round_store.TEST, ids),
            }
