from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file
from torch import nn

from robustar.errors import CheckpointError, ConfigError
from robustar.models.checkpoint import load_weights, read_state_dict, save_weights
from robustar.models.device import select_device
from robustar.models.registry import create_model, list_models


@pytest.mark.parametrize(
    ("name", "kind"),
    [("tiny_cnn", "SmallCNN"), ("resnet18", "ResNet"), ("torchvision/mobilenet_v3_small", None)],
)
def test_registry_builds_models_with_the_class_count(name: str, kind: str | None) -> None:
    model = create_model(name, num_classes=7)
    if kind:
        assert type(model).__name__ == kind
    out = model.eval()(torch.zeros(2, 3, 32, 32) if "cnn" in name else torch.zeros(2, 3, 64, 64))
    assert out.shape == (2, 7)


def test_user_callable() -> None:
    model = create_model("tests.custom_model:build", num_classes=4)
    assert model(torch.zeros(1, 3, 8, 8)).shape == (1, 4)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("no_such_net", "unknown model"),
        ("tests.custom_model:missing", "cannot import"),
        ("tests.custom_model:not_a_model", "not a torch module"),
        ("nothing/resnet18", "unknown model"),
    ],
)
def test_bad_names(name: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        create_model(name, 3)


def test_timm_when_missing_or_present() -> None:
    try:
        import timm  # noqa: F401
    except ImportError:
        with pytest.raises(ConfigError, match="needs timm"):
            create_model("timm/resnet18", 3)
        assert "timm" not in list_models()
    else:
        assert create_model("timm/resnet18", 3)(torch.zeros(1, 3, 32, 32)).shape == (1, 3)


@pytest.mark.parametrize("suffix", [".pt", ".safetensors"])
def test_weights_round_trip(tmp_path: Path, suffix: str) -> None:
    model = create_model("tiny_cnn", 3)
    path = tmp_path / f"w{suffix}"
    if suffix == ".pt":
        torch.save(model.state_dict(), path)
    else:
        save_weights(model, path)
    other = load_weights(create_model("tiny_cnn", 3), path, 3)
    for key, value in model.state_dict().items():
        assert torch.equal(value, other.state_dict()[key])


def test_wrapped_and_data_parallel_state_dicts(tmp_path: Path) -> None:
    model = create_model("tiny_cnn", 3)
    state = {f"module.{k}": v for k, v in model.state_dict().items()}
    torch.save({"epoch": 3, "state_dict": state}, tmp_path / "w.pth")
    loaded = load_weights(create_model("tiny_cnn", 3), tmp_path / "w.pth", 3)
    assert torch.equal(loaded.fc.weight, model.fc.weight)


def test_pickled_full_model_is_refused(tmp_path: Path) -> None:
    torch.save(create_model("tiny_cnn", 3), tmp_path / "full.pt")
    with pytest.raises(CheckpointError, match="pickled Python objects") as caught:
        read_state_dict(tmp_path / "full.pt")
    assert "state_dict" in caught.value.fix


def test_class_count_mismatch_is_explained(tmp_path: Path) -> None:
    torch.save(create_model("tiny_cnn", 5).state_dict(), tmp_path / "w.pt")
    with pytest.raises(CheckpointError, match="trained for 5 classes, the workspace has 3"):
        load_weights(create_model("tiny_cnn", 3), tmp_path / "w.pt", 3)


def test_key_mismatch_is_explained(tmp_path: Path) -> None:
    save_file({"linear.weight": torch.zeros(3, 3)}, str(tmp_path / "w.safetensors"))
    with pytest.raises(CheckpointError) as caught:
        load_weights(create_model("tiny_cnn", 3), tmp_path / "w.safetensors", 3)
    assert "model keys missing" in caught.value.what
    assert "linear.weight" in caught.value.what


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"garbage", "w.pt", "not a readable PyTorch file"),
        (b"hello world\nsome text\n", "notes.txt", r"not a file torch.save wrote \(KeyError"),
        (b"", "empty.pth", r"not a file torch.save wrote \(EOFError\)"),
        (b"garbage", "w.safetensors", "not a valid safetensors file"),
        (None, "missing.pt", "does not exist"),
    ],
)
def test_unreadable_checkpoints(tmp_path: Path, content: bytes | None, name: str, message: str):
    if content is not None:
        (tmp_path / name).write_bytes(content)
    with pytest.raises(CheckpointError, match=message):
        read_state_dict(tmp_path / name)


def test_non_tensor_checkpoint(tmp_path: Path) -> None:
    torch.save({"lr": 0.1}, tmp_path / "w.pt")
    with pytest.raises(CheckpointError, match="no tensors"):
        read_state_dict(tmp_path / "w.pt")


def test_save_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "m.safetensors"
    save_weights(nn.Linear(2, 2), path)
    before = path.read_bytes()

    def crash(*_args, **_kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("robustar.models.checkpoint.save_file", crash)
    with pytest.raises(OSError):
        save_weights(nn.Linear(2, 2), path)
    assert path.read_bytes() == before


def test_device_selection() -> None:
    assert select_device("cpu").type == "cpu"
    assert select_device("auto").type in {"cpu", "cuda", "mps"}
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="not available"):
            select_device("cuda")
