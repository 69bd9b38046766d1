from pathlib import Path

import pytest
import torch

from robustar.errors import CheckpointError, ConfigError
from robustar.models.checkpoint import load_weights, save_weights
from robustar.models.registry import (
    check_name,
    check_registered,
    create_model,
    is_registered,
    list_models,
    model_task,
)


@pytest.mark.parametrize("size", [(32, 32), (37, 50)])
def test_small_unet_gives_logits_at_the_input_size(size: tuple[int, int]) -> None:
    model = create_model("small_unet", 4, task="segmentation").eval()
    assert model(torch.zeros(2, 3, *size)).shape == (2, 4, *size)


def test_torchvision_segmenter_gives_a_tensor_and_loads_torchvision_weights(
    tmp_path: Path,
) -> None:
    from torchvision.models.segmentation import lraspp_mobilenet_v3_large

    model = create_model("lraspp_mobilenet_v3_large", 3, task="segmentation").eval()
    out = model(torch.zeros(1, 3, 32, 32))
    assert isinstance(out, torch.Tensor) and out.shape == (1, 3, 32, 32)
    # weights the user saved from torchvision's own model load through the safe loader
    theirs = lraspp_mobilenet_v3_large(weights=None, weights_backbone=None, num_classes=3)
    torch.save(theirs.state_dict(), tmp_path / "lraspp.pt")
    load_weights(model, tmp_path / "lraspp.pt", 3)
    assert torch.equal(model.state_dict()["classifier.low_classifier.weight"],
                       theirs.state_dict()["classifier.low_classifier.weight"])  # fmt: skip
    with pytest.raises(CheckpointError, match="trained for 3 classes, the workspace has 5"):
        load_weights(create_model("lraspp_mobilenet_v3_large", 5, task="segmentation"),
                     tmp_path / "lraspp.pt", 5)  # fmt: skip


def test_small_unet_weights_round_trip(tmp_path: Path) -> None:
    model = create_model("small_unet", 3, task="segmentation")
    save_weights(model, tmp_path / "w.safetensors")
    other = load_weights(create_model("small_unet", 3, task="segmentation"),
                         tmp_path / "w.safetensors", 3)  # fmt: skip
    x = torch.rand(1, 3, 32, 32)
    assert torch.allclose(model.eval()(x), other.eval()(x))


def test_task_marker_keeps_classifiers_and_segmenters_apart() -> None:
    assert model_task("small_unet") == "segmentation" == model_task("fcn_resnet50")
    assert model_task("tiny_cnn") == "classification" == model_task("resnet18")
    assert model_task("tests.custom_model:segmenter") == "segmentation"
    assert is_registered("small_unet") and is_registered("torchvision/deeplabv3_resnet50")
    with pytest.raises(ConfigError, match="'small_unet' is a segmentation model") as error:
        create_model("small_unet", 3)  # a classification workspace's default
    assert "tiny_cnn" in (error.value.fix or "")
    with pytest.raises(ConfigError, match="'resnet18' is a classification model"):
        check_name("resnet18", task="segmentation")
    with pytest.raises(ConfigError, match="'tiny_unet' is a segmentation model"):
        check_registered("tiny_unet")  # what HTTP names for a classification workspace
    assert check_registered("tiny_unet", task="segmentation") == "tiny_unet"
    assert "small_unet" not in list_models()["builtin"]
    segmenters = list_models("segmentation")
    assert segmenters["builtin"] == ["small_unet", "tiny_unet"]
    assert {"fcn_resnet50", "deeplabv3_resnet50", "lraspp_mobilenet_v3_large"} <= set(
        segmenters["torchvision"]
    )
    user = create_model("tests.custom_model:segmenter", 2, task="segmentation")
    assert user(torch.zeros(1, 3, 5, 5)).shape == (1, 2, 5, 5)


def test_smp_when_missing_or_present() -> None:
    try:
        import segmentation_models_pytorch  # noqa: F401
    except ImportError:
        with pytest.raises(ConfigError, match="needs segmentation-models-pytorch"):
            create_model("smp/unet", 3, task="segmentation")
        assert "smp" not in list_models("segmentation")
    else:
        for name in ("smp/unet/resnet18", "smp/fpn/resnet18"):
            model = create_model(name, 3, task="segmentation").eval()
            assert model(torch.zeros(1, 3, 64, 64)).shape == (1, 3, 64, 64)
        with pytest.raises(ConfigError, match="no architecture"):
            create_model("smp/nonet", 3, task="segmentation")
