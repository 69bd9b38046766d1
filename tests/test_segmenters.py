"""Segmentation-model proposals with tiny randomly initialised models (no weights download)."""

from functools import partial
from pathlib import Path

import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient
from PIL import Image
from torchvision import models

from robustar import Workspace
from robustar.annotations.segmenters import SamSegmenter, TorchvisionSegmenter
from robustar.config import SegmentationConfig, write_config
from robustar.errors import CheckpointError, ConfigError
from robustar.server.app import create_app


def configure(ws: Workspace, **fields: object) -> Workspace:
    """Write a [segmentation] section and open the workspace again, as a user would."""
    ws.config.segmentation = SegmentationConfig(**fields)
    write_config(ws.root, ws.config)
    ws.close()
    return Workspace.open(ws.root)


def test_without_a_model_the_tool_says_how_to_configure_one(demo: Workspace) -> None:
    client = TestClient(create_app(demo))
    info = client.get("/api/v1/segmentation").json()
    assert info["configured"] is False and "[segmentation]" in info["how_to"]
    image_id = demo.images("train", limit=1)[0].id
    response = client.post(
        f"/api/v1/images/{image_id}/segment", json={"points": [[3, 3]], "labels": [1]}
    )
    assert response.status_code == 400 and "backend" in response.json()["fix"]


def test_torchvision_checkpoint_proposes_the_clicked_region(demo: Workspace, tmp_path: Path):
    torch.manual_seed(0)
    network = models.get_model(
        "lraspp_mobilenet_v3_large", weights=None, weights_backbone=None, num_classes=3
    )
    torch.save(network.state_dict(), tmp_path / "seg.pt")
    demo = configure(
        demo,
        backend="torchvision",
        architecture="lraspp_mobilenet_v3_large",
        num_classes=3,
        checkpoint=str(tmp_path / "seg.pt"),
    )
    image_id = demo.images("train", limit=1)[0].id
    client = TestClient(create_app(demo))
    assert client.get("/api/v1/segmentation").json()["backend"] == "torchvision"
    response = client.post(
        f"/api/v1/images/{image_id}/segment", json={"points": [[5, 9]], "labels": [1]}
    )
    assert response.status_code == 200
    import io

    mask = np.asarray(Image.open(io.BytesIO(response.content)).convert("L")) > 0
    assert mask.shape == (32, 32) and mask[9, 5]
    classes = TorchvisionSegmenter(network, torch.device("cpu")).class_map(
        demo.load_image(image_id)
    )
    assert (classes[mask] == classes[9, 5]).all()
    bad = client.post(f"/api/v1/images/{image_id}/segment", json={"points": [[5]], "labels": [1]})
    assert bad.status_code == 422
    outside = client.post(
        f"/api/v1/images/{image_id}/segment", json={"points": [[99, 1]], "labels": [1]}
    )
    assert outside.status_code == 400 and "outside" in outside.json()["detail"]


def test_checkpoint_problems_are_explained(demo: Workspace, tmp_path: Path) -> None:
    demo = configure(
        demo, backend="torchvision", architecture="fcn_resnet50", checkpoint="missing.pt"
    )
    with pytest.raises(ConfigError, match="does not exist"):
        demo.masks.segment(1, [(1, 1)], [1])
    network = models.get_model(
        "lraspp_mobilenet_v3_large", weights=None, weights_backbone=None, num_classes=5
    )
    torch.save(network.state_dict(), tmp_path / "five.pt")
    demo = configure(
        demo,
        backend="torchvision",
        architecture="lraspp_mobilenet_v3_large",
        num_classes=3,
        checkpoint=str(tmp_path / "five.pt"),
    )
    with pytest.raises(CheckpointError, match="trained for 5 classes"):
        demo.masks.segment(1, [(1, 1)], [1])
    demo = configure(
        demo, backend="torchvision", architecture="resnet18", checkpoint=str(tmp_path / "five.pt")
    )
    with pytest.raises(ConfigError, match="unknown model"):
        demo.masks.segment(1, [(1, 1)], [1])


def tiny_sam() -> torch.nn.Module:
    from segment_anything.modeling import (
        ImageEncoderViT,
        MaskDecoder,
        PromptEncoder,
        Sam,
        TwoWayTransformer,
    )

    torch.manual_seed(0)
    return Sam(
        image_encoder=ImageEncoderViT(
            img_size=64,
            patch_size=16,
            embed_dim=32,
            depth=1,
            num_heads=2,
            out_chans=32,
            norm_layer=partial(torch.nn.LayerNorm, eps=1e-6),
        ),
        prompt_encoder=PromptEncoder(
            embed_dim=32, image_embedding_size=(4, 4), input_image_size=(64, 64), mask_in_chans=4
        ),
        mask_decoder=MaskDecoder(
            transformer_dim=32,
            transformer=TwoWayTransformer(depth=1, embedding_dim=32, mlp_dim=64, num_heads=2),
            num_multimask_outputs=3,
            iou_head_depth=2,
            iou_head_hidden_dim=16,
        ),
    )


def test_segment_anything_with_click_prompts() -> None:
    image = Image.fromarray(np.random.default_rng(0).integers(0, 255, (40, 56, 3), np.uint8))
    segmenter = SamSegmenter(tiny_sam())
    mask = segmenter.propose(image, [(10, 12), (40, 30)], [1, 0])
    assert mask.shape == (40, 56) and mask.dtype == bool


def test_segment_anything_checkpoint_must_fit(demo: Workspace, tmp_path: Path) -> None:
    torch.save(tiny_sam().state_dict(), tmp_path / "tiny_sam.pth")
    demo = configure(
        demo, backend="sam", model_type="vit_b", checkpoint=str(tmp_path / "tiny_sam.pth")
    )
    with pytest.raises(CheckpointError, match="does not fit"):
        demo.masks.segment(1, [(1, 1)], [1])
