"""The Python API in the FiftyOne style: lazy views, samples, saliency results, attribution
records, and errors whose fix names the Python call."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import event

from robustar import Workspace
from robustar.config import WorkspaceConfig
from robustar.errors import DataError, NotFoundError, RobustarError
from robustar.explain.saliency import SALIENCY
from robustar.predict.samples import Sample
from tests.conftest import folder_config
from tests.test_cli import run


class Statements:
    """Counts the SQL statements a workspace's engine runs."""

    def __init__(self, ws: Workspace) -> None:
        self.count = 0
        event.listen(ws.engine, "before_cursor_execute", self._seen)

    def _seen(self, *args: object) -> None:
        self.count += 1


def test_a_view_runs_nothing_until_it_is_read(demo: Workspace) -> None:
    sql = Statements(demo)
    view = (
        demo.view("test")
        .label(3)
        .wrong()
        .confidence(0.1, 0.9)
        .sort_by("loss", reverse=True)
        .skip(1)
        .take(3)
    )
    assert repr(view) == (
        "View('test').label(3).wrong().confidence(0.1, 0.9)"
        ".sort_by('loss', reverse=True).skip(1).take(3)"
    )
    assert sql.count == 0, "building a view runs no query"
    iterator = iter(view)
    assert sql.count == 0, "nor does starting to iterate it"
    samples = list(iterator)
    assert sql.count > 0
    expected = demo.images(
        "test",
        label=3,
        correct=False,
        min_confidence=0.1,
        max_confidence=0.9,
        sort="loss",
        descending=True,
        offset=1,
        limit=3,
    )
    assert [s.id for s in samples] == [i.id for i in expected] == view.ids()


@pytest.mark.parametrize(
    ("chain", "filters"),
    [
        (
            lambda v: v.wrong().sort_by("loss", reverse=True),
            {"correct": False, "sort": "loss", "descending": True},
        ),
        (lambda v: v.right().predicted("4"), {"correct": True, "predicted": 4}),
        (lambda v: v.label("7").sort_by("confidence"), {"label": 7, "sort": "confidence"}),
        (
            lambda v: v.confidence(0.2).confidence(None, 0.6).confidence(0.3),
            {"min_confidence": 0.3, "max_confidence": 0.6},
        ),
        (
            lambda v: v.sort_by("id", reverse=True).skip(5).take(10).skip(2),
            {"sort": "id", "descending": True, "offset": 7, "limit": 8},
        ),
        (lambda v: v.take(4).take(9), {"limit": 4}),
        (lambda v: v.not_annotated(), {"annotated": False}),
    ],
)
def test_views_list_what_the_gallery_lists(demo: Workspace, chain, filters: dict) -> None:
    view = chain(demo.view("test"))
    expected = demo.images("test", **filters)
    assert [s.id for s in view] == [i.id for i in expected] == view.ids()
    page = {k: filters.pop(k) for k in ("sort", "descending", "offset", "limit") if k in filters}
    total = demo.count("test", **filters)
    assert (
        len(view)
        == len(expected)
        == min(max(0, total - page.get("offset", 0)), page.get("limit", total))
    )


def test_view_samples_ids_first_and_contradictions(demo: Workspace) -> None:
    wrong = demo.view("test").wrong().sort_by("loss", reverse=True)
    first = wrong.first()
    top = demo.images("test", correct=False, sort="loss", descending=True, limit=1)[0]
    assert first == Sample(
        id=top.id,
        split="test",
        path=demo.image_path(top.id),
        label=demo.classes[top.label],
        predicted=demo.classes[top.prediction.predicted],
        confidence=top.prediction.confidence,
        loss=top.prediction.loss,
        correct=False,
        version=demo.current_model.id,
        annotated=(),
    )
    chosen = wrong.ids()[:4]
    picked = demo.view("test").match_ids([*chosen, 10**9]).match_ids(chosen[1:])
    assert picked.ids() == sorted(chosen[1:])  # the sets intersect; sorted by name = by id here
    assert len(demo.view("test").match_ids([])) == 0
    with pytest.raises(NotFoundError, match="is empty"):
        demo.view("test").match_ids([]).first()
    with pytest.raises(DataError, match="contradicts"):
        demo.view("test").wrong().right()
    with pytest.raises(DataError, match="before skip and take"):
        demo.view("test").take(5).wrong()
    with pytest.raises(DataError, match="unknown sort key"):
        demo.view("test").sort_by("size")
    with pytest.raises(DataError, match="unknown class"):
        demo.view("test").label("zebra")
    with pytest.raises(DataError, match="not configured"):
        demo.view("nowhere")
    other = demo.view("test").version(1).wrong()
    assert other.ids() == [i.id for i in demo.images("test", version=1, correct=False)]


def test_to_pandas_and_export_follow_the_view(demo: Workspace, tmp_path: Path) -> None:
    train = demo.view("train").sort_by("id")
    ids = train.ids()
    mask = np.zeros((32, 32), dtype=bool)
    mask[:4, :4] = True
    for image_id in ids[:3]:
        demo.masks.set(image_id, mask)
    demo.masks.set(ids[0], mask, kind="object")
    frame = train.take(5).to_pandas()
    assert list(frame.columns) == [
        "id",
        "split",
        "path",
        "label",
        "predicted",
        "confidence",
        "loss",
        "correct",
        "version",
        "annotated_spurious",
        "annotated_object",
    ]
    assert frame["id"].tolist() == ids[:5]
    assert frame["annotated_spurious"].tolist() == [True, True, True, False, False]
    assert frame["annotated_object"].tolist() == [True, False, False, False, False]
    assert frame["path"][0] == str(demo.image_path(ids[0]))
    assert frame["label"][0] == demo.classes[demo.image(ids[0]).label]
    assert len(demo.view("train").match_ids([]).to_pandas().columns) == 11
    annotated = train.annotated()
    assert annotated.ids() == ids[:3] and annotated.first().annotated == ("spurious", "object")
    # Export: only the view's masks (two of the three annotated images).
    written = annotated.skip(1).export(tmp_path / "out")
    files = sorted((tmp_path / "out").rglob("*.png"))
    assert written == 2 and len(files) == 2
    assert {f.relative_to(tmp_path / "out").as_posix() for f in files} == {
        f"train/{Path(demo.image(i).relpath).with_suffix('.png').as_posix()}" for i in ids[1:3]
    }


def test_to_pandas_without_pandas_names_the_extra(
    demo: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)  # `import pandas` raises ImportError
    with pytest.raises(DataError, match=r"pip install 'robustar\[pandas\]'"):
        demo.view("test").to_pandas()


@pytest.fixture
def oblong(tmp_path: Path) -> Workspace:
    """A trained tiny workspace of 20 x 12 images (width x height), so that (H, W) shows."""
    rng = np.random.default_rng(0)
    for name in ("cat", "dog"):
        (tmp_path / "train" / name).mkdir(parents=True)
        for i in range(6):
            pixels = rng.integers(0, 256, size=(12, 20, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(tmp_path / "train" / name / f"{i}.png")
    config: WorkspaceConfig = folder_config(tmp_path / "train")
    ws = Workspace.create(tmp_path / "ws", config)
    ws.train(epochs=1, batch_size=8, seed=0)
    yield ws
    ws.close()


def test_saliency_is_height_by_width_for_every_method(oblong: Workspace) -> None:
    image = oblong.images("train", limit=1)[0]
    assert (image.width, image.height) == (20, 12)
    for method in SALIENCY.names():
        found = oblong.saliency(image.id, method, target="dog")
        assert found.map.shape == (12, 20) and found.map.dtype == np.float32, method
        assert (found.map >= 0).all() and np.isfinite(found.map).all()
        assert (found.image_id, found.method, found.target) == (image.id, method, 1)
        assert found.version == oblong.current_model.id
        assert found.layer is None
        if method == "gradient":
            assert found.channels.shape == (3, 12, 20)
            assert np.allclose(found.map, np.abs(found.channels).max(0))
        else:
            assert found.channels is None
        cached = oblong.saliency(image.id, method, target="dog")  # read back from the cache
        assert cached.map.shape == (12, 20) and np.allclose(cached.map, found.map, atol=1e-2)
    layer = oblong.saliency(image.id, "gradcam", layer="features.0.0")
    assert layer.layer == "features.0.0" and layer.target == image.prediction.predicted


def test_attribution_results_carry_the_samples(demo: Workspace, monkeypatch, capsys) -> None:
    demo.attribution.build("cosine", dim=32)
    image = demo.view("test").wrong().first()
    found = demo.attribution.query(image.id, k=4)
    current = demo.current_model.id
    for scored in found.helpful + found.harmful:
        sample, info = scored.sample, demo.image(scored.image_id)
        assert sample.id == scored.image_id and sample.split == "train"
        assert sample.label == demo.classes[info.label]
        assert sample.predicted == demo.classes[info.prediction.predicted]
        assert sample.version == current and sample.path == demo.image_path(sample.id)
    assert found.helpful[0].score >= found.harmful[0].score
    # The faces still show ids and scores, as before.
    code, out, _ = run(
        monkeypatch, capsys, "attribute", "query", demo.root, str(image.id), "--k", "4"
    )
    helpful = ", ".join(f"{s.image_id} ({s.score:+.3g})" for s in found.helpful)
    assert code == 0 and f"helpful: {helpful}" in out.replace("\n", " ")


def test_errors_name_the_python_call_to_python_and_the_command_to_the_cli(
    demo: Workspace, tmp_path: Path, monkeypatch, capsys
) -> None:
    image = demo.images("test", limit=1)[0]
    with pytest.raises(NotFoundError) as missing:
        demo.attribution.query(image.id, method="tracin")
    assert "ws.attribution.build('tracin')" in str(missing.value)
    assert "robustar attribute build" not in str(missing.value)
    assert "robustar attribute build DIR --method tracin" in missing.value.fix
    assert missing.value.text().endswith(missing.value.fix)
    state = demo.attribution.readiness("tracin")
    assert "robustar attribute" in state.fix and "ws.attribution.build" in state.python_fix
    code, _, err = run(
        monkeypatch, capsys, "attribute", "query", demo.root, str(image.id), "--method", "tracin"
    )
    assert code == 2 and "robustar attribute build" in err and "ws.attribution" not in err
    with pytest.raises(RobustarError) as nowhere:
        Workspace.open(tmp_path / "nowhere")
    assert "robustar.Workspace.create" in str(nowhere.value)
    assert "robustar init" in nowhere.value.fix
    code, _, err = run(monkeypatch, capsys, "info", tmp_path / "nowhere")
    assert code == 2 and "robustar init" in err and "Workspace.create" not in err
    with pytest.raises(NotFoundError, match=r"ws\.models"):
        demo.model(99)
    plain = DataError("a problem", "a fix")  # one fix serves both when nothing differs
    assert plain.python_fix == "a fix" and str(plain) == plain.text() == "a problem\n  fix: a fix"
