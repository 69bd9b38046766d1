"""The review loop from the command line: auto-annotate, review proposals, compare, resume."""

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from robustar import Workspace
from robustar.data.spurious_digits import PATCH_COLOURS
from robustar.errors import DataError
from robustar.server.app import create_app
from tests.test_cli import run

COLOURS = json.dumps([[int(v) for v in c] for c in PATCH_COLOURS])


def test_auto_annotate_then_review_proposals(demo: Workspace, monkeypatch, capsys) -> None:
    args = ["masks", "auto", demo.root, "--method", "colour", "--colours", COLOURS]
    code, out, err = run(monkeypatch, capsys, *args, "--filters", '{"label": "3"}', "--limit", "5")
    assert code == 0, err
    assert "5 proposals waiting" in out
    assert {demo.image(p.image_id).label for p in demo.masks.proposals()[1]} == {3}
    code, _, err = run(monkeypatch, capsys, *args, "--filters", '{"label": "zero"}', "-q")
    assert code == 2 and "unknown class 'zero'" in err  # filters reach the library's checks
    code, out, _ = run(monkeypatch, capsys, *args, "--limit", "2", "--queue")
    assert code == 0 and "queued auto-annotation as job" in out
    assert demo.jobs.list()[0].kind == "auto_annotate"
    grabcut = ["masks", "auto", demo.root, "--method", "grabcut", "--no-invert", "--queue"]
    code, _, err = run(monkeypatch, capsys, *grabcut)
    assert code == 0 and demo.jobs.list()[0].params["invert"] is False, err
    code, _, err = run(monkeypatch, capsys, *args, "--filters", "[1,")
    assert code == 2 and "not JSON" in err
    code, _, err = run(monkeypatch, capsys, "masks", "auto", demo.root)
    assert code == 2 and "Missing option" in err  # --method
    code, out, _ = run(monkeypatch, capsys, "proposals", "list", demo.root)
    assert code == 0 and "5 of 5 pending proposals" in out
    first = demo.masks.proposals()[1][0].id
    code, out, _ = run(monkeypatch, capsys, "proposals", "reject", demo.root, first)
    assert code == 0 and "rejected 1 proposals" in out
    code, _, err = run(monkeypatch, capsys, "proposals", "accept", demo.root)
    assert code == 2 and "--all" in err  # neither ids nor --all
    code, out, _ = run(monkeypatch, capsys, "proposals", "accept", demo.root, "--all")
    assert code == 0 and "accepted 4 proposals" in out
    assert demo.masks.proposals()[0] == 0
    assert demo.masks.proposals("accepted")[0] == 4 == demo.count("train", annotated=True)
    code, _, err = run(monkeypatch, capsys, "proposals", "accept", demo.root, first)
    assert code == 2 and "already rejected" in err


def test_compare_and_info_show_the_version_against_its_parent(
    demo: Workspace, monkeypatch, capsys
) -> None:
    second = demo.train(architecture="tiny_cnn", epochs=1, seed=9, init="current")
    report = demo.compare()
    code, out, _ = run(monkeypatch, capsys, "info", demo.root)
    test = next(s for s in report.splits if s.split == "test")
    expected = f"test {100 * test.before:.1f}% → {100 * test.after:.1f}%"
    assert code == 0 and f"v{second.id} against its parent v1" in out and expected in out
    code, out, _ = run(monkeypatch, capsys, "compare", demo.root, "--json")
    assert code == 0 and json.loads(out)["splits"][2]["fixed"] == test.fixed
    code, out, _ = run(monkeypatch, capsys, "compare", demo.root)
    assert code == 0 and "fixed" in out and "no annotated test images" in out
    assert out.startswith(report.verdict.conclusion.split(":")[0])  # the verdict comes first


def test_compare_writes_the_report_to_share(demo: Workspace, monkeypatch, capsys, tmp_path):
    demo.train(architecture="tiny_cnn", epochs=1, seed=9, init="current")
    outcome = demo.compare().verdict.conclusion.split(":")[0]
    for name, start in (("r.html", "<!DOCTYPE html>"), ("r.md", "# Repair report")):
        code, out, err = run(monkeypatch, capsys, "compare", demo.root, "--report", tmp_path / name)
        assert code == 0 and "wrote the report" in err and "fixed" in out
        text = (tmp_path / name).read_text()
        assert text.startswith(start) and outcome in text
    code, _, err = run(monkeypatch, capsys, "compare", demo.root, "--report", tmp_path / "r.pdf")
    assert code == 2 and "'.pdf'" in err and not (tmp_path / "r.pdf").exists()
    text = demo.report(path=tmp_path / "python.md")  # the format from the suffix
    assert text.startswith("# Repair report") and (tmp_path / "python.md").read_text() == text


def test_compare_names_missing_predictions_and_runs_them(demo: Workspace, monkeypatch, capsys):
    imported = demo.import_weights(demo.load_model().state_dict(), "tiny_cnn")
    with pytest.raises(DataError, match=f"version {imported.id} on train") as error:
        demo.compare(before=1)
    assert f"robustar predict DIR --version {imported.id}" in (error.value.fix or "")
    response = TestClient(create_app(demo)).get("/api/v1/compare", params={"before": 1})
    assert response.status_code == 200  # an imported version is a state, not an error
    body = response.json()
    assert body["splits"] == [] and "robustar predict" in body["fix"]
    assert body["missing"] == [
        {"version": imported.id, "split": s} for s in ("train", "validation", "test")
    ]
    code, out, err = run(monkeypatch, capsys, "compare", demo.root, "--before", "1")
    assert code == 2 and f"version {imported.id} on test" in err and "--predict" in err
    code, out, _ = run(monkeypatch, capsys, "compare", demo.root, "--before", "1", "--predict")
    assert code == 0, out
    report = demo.compare(before=1)  # the same weights: nothing changes
    assert [s.split for s in report.splits] == ["train", "validation", "test"]
    assert all(s.changed == 0 and s.before == s.after for s in report.splits)


def test_a_stopped_run_is_listed_and_resumed(demo: Workspace, monkeypatch, capsys) -> None:
    def stop(_epoch: object) -> None:
        raise KeyboardInterrupt  # as if the process were killed after the first epoch

    with pytest.raises(KeyboardInterrupt):
        demo.train(architecture="tiny_cnn", epochs=2, seed=1, on_epoch=stop)
    (run_info,) = demo.info().unfinished_runs
    assert (run_info.epochs_done, run_info.epochs) == (1, 2)
    code, out, _ = run(monkeypatch, capsys, "info", demo.root)
    assert f"--resume {run_info.name}" in out and "1/2 epochs" in out
    code, _, err = run(monkeypatch, capsys, "train", demo.root, "--resume", "nope")
    assert code == 2 and run_info.name in err
    code, _, err = run(monkeypatch, capsys, "train", demo.root, "--resume", "x", "--epochs", "3")
    assert code == 2 and "without other options" in err
    args = ["train", demo.root, "--resume", run_info.name, "--no-predict", "-q"]
    code, out, err = run(monkeypatch, capsys, *args)
    assert code == 0, err
    version = demo.current_model
    assert version is not None and len(demo.training_curves(version.id)) == 2
    assert demo.info().unfinished_runs == []
    assert Path(run_info.folder).is_dir()  # its curves stay, like a finished run's


def test_a_python_training_stopped_from_its_progress_callback(
    demo: Workspace, monkeypatch, capsys
) -> None:
    """Stopped in its first epoch: nothing to resume and no folder left. Stopped later: listed,
    resumed from Python, or removed from the CLI."""
    runs = demo.root / "runs"
    before = set(runs.iterdir())

    def stop_in(epoch: int):  # type: ignore[no-untyped-def]
        def progress(stage: str, done: int, total: int) -> None:
            steps = total // 3  # per epoch: `done` counts the steps of the whole run
            if stage.startswith(f"train epoch {epoch}/") and done == (epoch - 1) * steps + 2:
                raise KeyboardInterrupt  # as if the user pressed Ctrl-C mid-epoch

        return progress

    options = {"architecture": "tiny_cnn", "epochs": 3, "seed": 2, "batch_size": 32}
    options["predict"] = False
    with pytest.raises(KeyboardInterrupt):
        demo.train(progress=stop_in(1), **options)
    assert set(runs.iterdir()) == before and demo.unfinished_runs() == []
    with pytest.raises(KeyboardInterrupt):
        demo.train(progress=stop_in(2), **options)
    (stopped,) = demo.unfinished_runs()
    assert (stopped.epochs_done, stopped.epochs) == (1, 3)
    with pytest.raises(KeyboardInterrupt):
        demo.train(progress=stop_in(3), predict=False, resume=stopped)
    assert demo.unfinished_runs()[0].epochs_done == 2  # went on from epoch 2
    version = demo.train(predict=False, resume=stopped)
    assert len(demo.training_curves(version.id)) == 3 and demo.unfinished_runs() == []
    with pytest.raises(KeyboardInterrupt):
        demo.train(progress=stop_in(2), **options)
    (left,) = demo.unfinished_runs()
    code, out, _ = run(monkeypatch, capsys, "runs", "list", demo.root)
    assert code == 0 and left.name in out and "1/3" in out
    code, _, err = run(monkeypatch, capsys, "runs", "clean", demo.root)
    assert code == 2 and "--all" in err
    code, out, _ = run(monkeypatch, capsys, "runs", "clean", demo.root, left.name)
    assert code == 0 and "removed 1 unfinished run" in out
    assert demo.unfinished_runs() == [] and not Path(left.folder).exists()
