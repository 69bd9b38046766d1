from pathlib import Path

import pytest
import torch

from robustar import TrainOptions, Workspace
from robustar.errors import CheckpointError, ConfigError
from robustar.models.versions import epoch_metrics


def weights(ws: Workspace, version: int) -> dict[str, torch.Tensor]:
    return ws.load_model(version).state_dict()


def test_training_is_deterministic_on_cpu(workspace: Workspace) -> None:
    options = TrainOptions(epochs=2, seed=7, batch_size=4, device="cpu")
    a = workspace.train(options, predict=False)
    b = workspace.train(options, predict=False)
    c = workspace.train(options.model_copy(update={"seed": 8}), predict=False)
    wa, wb, wc = weights(workspace, a.id), weights(workspace, b.id), weights(workspace, c.id)
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    assert not all(torch.equal(wa[k], wc[k]) for k in wa)


def test_a_trained_version_records_everything(workspace: Workspace) -> None:
    version = workspace.train(
        epochs=3,
        learning_rate=0.01,
        optimizer="sgd",
        schedule="step",
        step_size=1,
        gamma=0.5,
        name="first",
    )
    assert version.is_current and version.name == "first" and version.source == "trained"
    assert version.config["optimizer"] == "sgd" and version.config["epochs"] == 3
    folder = workspace.root / "models" / f"v{version.id}"
    assert sorted(p.name for p in folder.iterdir()) == [
        "epoch-001.safetensors",
        "epoch-002.safetensors",
        "epoch-003.safetensors",
        "model.safetensors",
    ]
    with workspace.session() as session:
        curve = epoch_metrics(session, version.id)
        assert [e.epoch for e in curve] == [1, 2, 3]
        assert [e.learning_rate for e in curve] == pytest.approx([0.01, 0.005, 0.0025])
        assert all(e.val_loss is None for e in curve)  # no validation split configured
    assert set(version.metrics) == {"train", "test"}
    assert not list((workspace.root / "models").glob(".staging-*"))


def test_lineage_and_current_version(workspace: Workspace) -> None:
    first = workspace.train(epochs=1, predict=False)
    second = workspace.train(epochs=1, init="current", predict=False)
    assert second.parent_id == first.id
    assert workspace.current_model.id == second.id
    workspace.use_model(first.id)
    assert workspace.current_model.id == first.id
    assert [v.is_current for v in workspace.models] == [True, False]


def test_import_and_fine_tune_from_local_weights(workspace: Workspace, tmp_path: Path) -> None:
    from robustar.models.registry import create_model

    torch.save(create_model("tiny_cnn", 3).state_dict(), tmp_path / "mine.pt")
    imported = workspace.import_model(tmp_path / "mine.pt", name="mine")
    assert imported.source == "imported" and imported.is_current
    assert (workspace.root / imported.checkpoint).suffix == ".safetensors"
    tuned = workspace.train(epochs=1, init="checkpoint", checkpoint=str(tmp_path / "mine.pt"))
    assert tuned.parent_id is None and tuned.is_current


def test_bad_training_input_changes_nothing(workspace: Workspace, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="learning_rate"):
        workspace.train(epochs=1, learning_rate=-1)
    with pytest.raises(ConfigError, match="needs a checkpoint"):
        workspace.train(init="checkpoint")
    from robustar.models.registry import create_model

    torch.save(create_model("tiny_cnn", 5).state_dict(), tmp_path / "five.pt")
    with pytest.raises(CheckpointError, match="5 classes"):
        workspace.import_model(tmp_path / "five.pt")
    assert workspace.models == []
    assert list((workspace.root / "models").glob("*")) == []


def test_bad_training_options_name_each_field() -> None:
    from robustar.train.options import parse_options

    with pytest.raises(ConfigError, match=r"invalid training options: epochs: .*; nope: Extra"):
        parse_options({"epochs": 0, "nope": 1})
