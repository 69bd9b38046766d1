"""Model input settings: --mean, --std and --image-size reach the transform and the
predictions; weights that declare other settings are reported on import."""

import sys
from pathlib import Path

import pytest
import torch
from PIL import Image

from robustar import Workspace
from robustar.config import ImageConfig
from robustar.data.transforms import ModelInput
from robustar.errors import ConfigError
from robustar.models.checkpoint import read_checkpoint, save_weights
from robustar.models.inputs import write_metadata
from robustar.models.registry import check_name, create_model
from tests.test_cli import run


def test_one_value_stands_for_the_three_channels_of_a_grey_model() -> None:
    config = ImageConfig(mean=[0.5], std=[0.25], size=8, resize="stretch")
    assert config.mean == [0.5] * 3 and config.std == [0.25] * 3
    tensor = ModelInput(config)(Image.new("RGB", (4, 4), (255, 0, 128)))
    assert tensor.shape == (3, 8, 8)
    assert torch.allclose(
        tensor[:, 0, 0], torch.tensor([2.0, -2.0, (128 / 255 - 0.5) / 0.25]), atol=1e-5
    )
    with pytest.raises(ValueError, match="at most 3"):
        ImageConfig(mean=[0.1, 0.2, 0.3, 0.4])


def test_changed_mean_and_std_change_the_predictions(workspace: Workspace) -> None:
    torch.manual_seed(0)
    workspace.import_weights(create_model("tiny_cnn", 3).state_dict())
    before = workspace.predict("test").loss
    x = workspace.transform(workspace.load_image(1))
    assert workspace.set_model_input(mean=[0.2, 0.3, 0.4], std=[0.1])
    assert not workspace.set_model_input(mean=[0.2, 0.3, 0.4])  # the same again: no change
    old_mean, old_std = torch.tensor([0.485, 0.456, 0.406]), torch.tensor([0.229, 0.224, 0.225])
    pixels = x * old_std[:, None, None] + old_mean[:, None, None]
    expected = (pixels - torch.tensor([0.2, 0.3, 0.4])[:, None, None]) / 0.1
    assert torch.allclose(workspace.transform(workspace.load_image(1)), expected, atol=1e-4)
    after = workspace.predict("test").loss
    assert before is not None and after is not None and abs(before - after) > 1e-4
    workspace.close()
    with Workspace.open(workspace.root) as reopened:  # written to robustar.toml
        assert reopened.config.image.mean == [0.2, 0.3, 0.4]
        assert reopened.config.image.std == [0.1] * 3


def _tiny_weights(path: Path, **extra: object) -> Path:
    torch.save({"state_dict": create_model("tiny_cnn", 3).state_dict(), **extra}, path)
    return path


def test_weights_declaring_other_input_settings_are_reported(
    workspace: Workspace, tmp_path: Path
) -> None:
    path = _tiny_weights(tmp_path / "w.pt", mean=[0.5, 0.5, 0.5], std=[0.5, 0.5, 0.5], epoch=3)
    assert read_checkpoint(path).metadata == {"mean": [0.5] * 3, "std": [0.5] * 3, "epoch": 3}
    version = workspace.import_model(path)
    [warning] = version.config["warnings"]
    assert "mean 0.5,0.5,0.5 (workspace: 0.485,0.456,0.406)" in warning
    assert "--mean 0.5,0.5,0.5 --std 0.5,0.5,0.5" in warning
    assert workspace.model(version.id).config["warnings"] == [warning]  # kept in the record
    same = _tiny_weights(tmp_path / "same.pt", mean=[0.485, 0.456, 0.406], image_size=16)
    assert workspace.import_model(same).config["warnings"] == []


def test_a_version_s_weights_carry_its_settings_to_another_workspace(
    workspace: Workspace, tmp_path: Path
) -> None:
    """safetensors metadata: what Robustar writes for each version, and reads back."""
    other = ImageConfig(size=32, mean=[0.5], std=[0.2])
    save_weights(create_model("tiny_cnn", 3), tmp_path / "w.safetensors", write_metadata(other))
    [warning] = workspace.import_model(tmp_path / "w.safetensors").config["warnings"]
    assert "image size 32 (workspace: 16)" in warning and "std 0.2,0.2,0.2" in warning
    version = workspace.import_model(workspace.root / workspace.current_model.checkpoint)
    assert version.config["warnings"] == [] and version.config["input"]["size"] == 16


def test_an_architecture_s_pretrained_cfg_is_checked(workspace: Workspace) -> None:
    """timm models carry pretrained_cfg (mean, std, input_size); a user model may too."""
    model = create_model("tests.custom_model:timm_like", 3)
    path = workspace.root / "timm_like.pt"
    torch.save(model.state_dict(), path)
    version = workspace.import_model(path, "tests.custom_model:timm_like")
    [warning] = version.config["warnings"]
    assert warning.startswith("the architecture's pretrained_cfg says the model expects mean")
    assert "image size" not in warning  # 16 both


def test_models_import_takes_input_settings_and_prints_the_warning(
    workspace: Workspace, tmp_path: Path, monkeypatch, capsys
) -> None:
    path = _tiny_weights(tmp_path / "w.pt", mean=[0.5], std=[0.5])
    root = workspace.root
    workspace.close()
    code, out, err = run(monkeypatch, capsys, "models", "import", root, path, "--std", "0.5")
    assert code == 0 and "imported" in out
    assert "warning: the checkpoint's metadata says the model expects mean 0.5 (workspace" in err
    code, out, err = run(monkeypatch, capsys, "models", "import", root, path, "--mean", "0.5")
    assert code == 0 and "warning" not in err and "[image] settings changed" in err
    code, _, err = run(monkeypatch, capsys, "models", "import", root, path, "--mean", "1,x")
    assert code == 2 and "give 3 numbers" in err
    with Workspace.open(root) as reopened:
        assert reopened.config.image.mean == [0.5] * 3 and reopened.config.image.std == [0.5] * 3


def test_missing_extras_name_their_install_command(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "timm", None)
    with pytest.raises(ConfigError) as caught:
        check_name("timm/resnet18")
    assert caught.value.fix == "pip install 'robustar[timm]'"
