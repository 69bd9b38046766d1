import io

import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select
from torch import nn

from robustar import Workspace
from robustar.data.transforms import to_native
from robustar.db.tables import Prediction
from robustar.errors import DataError
from robustar.explain.saliency import SALIENCY, mass_in_mask, saliency
from robustar.server.app import create_app


def small_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(4, 4, 3, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(4, 3),
    )


def test_gradient_equals_direct_autograd() -> None:
    model = small_model()
    x = torch.randn(1, 3, 8, 8)
    direct = x.clone().requires_grad_(True)
    model(direct)[0, 2].backward()
    ours = saliency(model, x, "gradient", 2)
    assert np.allclose(ours, direct.grad[0].numpy(), atol=1e-6)
    assert np.allclose(saliency(model, x, "max_gradient", 2), direct.grad[0].abs().amax(0).numpy())


def test_gradcam_on_a_model_with_a_known_layer() -> None:
    """A 1x1 conv that copies the red channel, average pooling, and logits (+a, -a): for class 0
    Grad-CAM is relu(red) up to a positive factor."""
    conv = nn.Conv2d(3, 1, 1, bias=False)
    head = nn.Linear(1, 2, bias=False)
    with torch.no_grad():
        conv.weight.copy_(torch.tensor([1.0, 0.0, 0.0]).view(1, 3, 1, 1))
        head.weight.copy_(torch.tensor([[1.0], [-1.0]]))
    model = nn.Sequential(conv, nn.AdaptiveAvgPool2d(1), nn.Flatten(), head)
    x = torch.randn(1, 3, 6, 6)
    cam = saliency(model, x, "gradcam", 0, layer="0")
    expected = torch.relu(x[0, 0]).numpy()
    assert cam.max() > 0
    assert np.allclose(cam / cam.max(), expected / expected.max(), atol=1e-5)
    other = saliency(model, x, "gradcam", 1, layer="0")  # weight -1: where red is negative
    negative = torch.relu(-x[0, 0]).numpy()
    assert np.allclose(other / other.max(), negative / negative.max(), atol=1e-5)
    with pytest.raises(DataError, match="no layer"):
        saliency(model, x, "gradcam", 0, layer="nope")


@pytest.mark.parametrize("method", SALIENCY.names())
def test_every_method_gives_a_finite_map(method: str) -> None:
    heat = saliency(small_model(), torch.randn(1, 3, 8, 8), method, 1)
    assert heat.shape in ((8, 8), (3, 8, 8)) and np.isfinite(heat).all()
    if method != "gradient":
        assert (heat >= 0).all()


def test_mass_in_mask_on_a_constructed_case() -> None:
    heat = np.zeros((4, 4))
    heat[0, 0], heat[0, 1], heat[3, 3] = 2.0, 1.0, 1.0
    mask = np.zeros((4, 4), dtype=bool)
    mask[0, :2] = True
    assert mass_in_mask(heat, mask) == pytest.approx(0.75)
    assert mass_in_mask(np.zeros((4, 4)), mask) is None
    with pytest.raises(DataError):
        mass_in_mask(heat, mask[:2])


@pytest.mark.parametrize(
    ("policy", "expected"), [("stretch", (5, 10)), ("pad", (5, 10)), ("crop", (5, 10))]
)
def test_maps_go_back_to_native_pixels(policy: str, expected: tuple[int, int]) -> None:
    heat = np.zeros((8, 8), dtype=np.float32)
    heat[3:5, 3:5] = 1.0  # the centre of the model input
    native = to_native(heat, 20, 10, 8, policy)
    assert native.shape == (10, 20)
    y, x = np.unravel_index(np.argmax(native), native.shape)
    assert abs(y - expected[0]) <= 1 and abs(x - expected[1]) <= 2


def test_workspace_saliency_is_cached_and_served(demo: Workspace) -> None:
    image = demo.images("test", limit=1)[0]
    found = demo.explain.saliency(image.id)
    heat = found.map
    assert heat.shape == (32, 32) and found.target == image.prediction.predicted
    cached = list((demo.root / "cache/saliency").rglob("*.npy"))
    assert len(cached) == 1
    again = demo.explain.saliency(image.id).map
    assert np.allclose(again, heat, atol=1e-3)
    assert demo.explain.mass_in_mask(image.id) is None
    mask = np.zeros((32, 32), dtype=bool)
    mask[:8, :8] = True
    demo.masks.set(image.id, mask)
    share = demo.explain.mass_in_mask(image.id)
    assert share == pytest.approx(mass_in_mask(heat, mask), rel=1e-3)
    client = TestClient(create_app(demo))
    response = client.get(
        f"/api/v1/images/{image.id}/saliency", params={"method": "gradcam", "target": 3}
    )
    assert response.status_code == 200 and response.headers["x-target"] == "3"
    assert Image.open(io.BytesIO(response.content)).mode == "RGBA"
    assert float(response.headers["x-mask-share"]) >= 0
    # The signed per-channel gradient: RGB, with the normalised magnitude as alpha.
    signed = client.get(f"/api/v1/images/{image.id}/saliency", params={"method": "gradient"})
    pixels = np.asarray(Image.open(io.BytesIO(signed.content)))
    magnitude = demo.explain.saliency(image.id, "gradient").map
    assert pixels.shape[2] == 4
    alpha = pixels[..., 3].astype(float)
    assert alpha.flat[magnitude.argmax()] == 255 and alpha.flat[magnitude.argmin()] < 50
    assert (
        np.corrcoef(alpha.ravel(), np.minimum(magnitude, np.percentile(magnitude, 99)).ravel())[
            0, 1
        ]
        > 0.99
    )
    assert (
        client.get(f"/api/v1/images/{image.id}/saliency", params={"method": "x"}).status_code == 422
    )
    assert (
        client.get(f"/api/v1/images/{image.id}/saliency", params={"target": 12}).status_code == 400
    )
    picture = client.get("/api/v1/models/1/activation/4")
    assert picture.status_code == 200 and Image.open(io.BytesIO(picture.content)).size == (32, 32)


def test_saliency_reads_the_cache_before_the_image_and_the_stored_prediction(
    demo: Workspace,
) -> None:
    image = demo.images("test", limit=1)[0]
    stored = image.prediction.predicted
    other = (stored + 1) % len(demo.classes)
    # The default class is the stored prediction: change the stored row and the map follows.
    with demo.session() as session:
        row = session.scalars(
            select(Prediction).where(
                Prediction.image_id == image.id, Prediction.version_id == demo.model().id
            )
        ).one()
        row.predicted = other
    found = demo.explain.saliency(image.id, "gradcam")
    assert found.target == other
    # A cached map is served without the image file: nothing is decoded, no model runs.
    demo.image_path(image.id).unlink()
    again = demo.explain.saliency(image.id, "gradcam")
    assert again.target == other and np.allclose(again.map, found.map, atol=1e-3)
    with pytest.raises((OSError, DataError)):  # another class is not cached: it needs the file
        demo.explain.saliency(image.id, "gradcam", stored)


def test_mask_share_header_describes_the_map_that_is_served(demo: Workspace) -> None:
    image = demo.images("test", limit=1)[0]
    mask = np.zeros((32, 32), dtype=bool)
    mask[:, :16] = True
    demo.masks.set(image.id, mask)
    client = TestClient(create_app(demo))
    shares = set()
    for target in (0, 5):
        response = client.get(
            f"/api/v1/images/{image.id}/saliency",
            params={"method": "gradcam", "target": target},
        )
        found = demo.explain.saliency(image.id, "gradcam", target)
        assert found.target == target
        expected = demo.explain.mask_share(found)
        assert float(response.headers["x-mask-share"]) == pytest.approx(expected, abs=1e-4)
        assert expected == pytest.approx(
            demo.explain.mass_in_mask(image.id, method="gradcam", target=target), abs=1e-6
        )
        shares.add(round(expected, 4))
    assert len(shares) == 2  # two classes, two maps, two shares
