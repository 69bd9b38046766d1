import numpy as np
import pytest
import torch
import torch.nn.functional as F
from fastapi.testclient import TestClient
from scipy.stats import pearsonr, spearmanr
from torch import nn

from robustar import Workspace
from robustar.errors import DataError, NotFoundError
from robustar.explain.gradients import LastLayer, Projected
from robustar.server.app import create_app

REG = 0.1


def fit(x: torch.Tensor, y: torch.Tensor, start: nn.Linear | None = None) -> nn.Linear:
    """Logistic regression to its optimum: sum of losses + REG/2 |theta|^2 (full batch)."""
    layer = nn.Linear(x.shape[1], 2).double()
    if start is not None:
        layer.load_state_dict(start.state_dict())
    optimizer = torch.optim.LBFGS(
        layer.parameters(),
        lr=1,
        max_iter=500,
        tolerance_grad=1e-12,
        tolerance_change=1e-14,
        history_size=50,
    )

    def closure():  # type: ignore[no-untyped-def]
        optimizer.zero_grad()
        loss = F.cross_entropy(layer(x), y, reduction="sum")
        loss = loss + REG / 2 * sum((p**2).sum() for p in layer.parameters())
        loss.backward()
        return loss

    optimizer.step(closure)
    return layer


def test_last_layer_influence_matches_leave_one_out_retraining() -> None:
    torch.manual_seed(0)
    n = 40
    x = torch.randn(n, 3, dtype=torch.float64)
    y = ((x[:, 0] + 0.5 * x[:, 1] + 0.8 * torch.randn(n, dtype=torch.float64)) > 0).long()
    x_test = torch.tensor([[0.3, -0.2, 0.1]], dtype=torch.float64)
    y_test = torch.tensor([1])
    layer = fit(x, y)
    model = nn.Sequential(nn.Identity(), layer)
    last = LastLayer(model)
    g_train, p, h1 = last.features(x, y)
    g_test, _, _ = last.features(x_test, y_test)
    # Features are laid out per class then per input (+ bias): check against autograd.
    direct = torch.autograd.grad(F.cross_entropy(layer(x[:1]), y[:1]), [layer.weight, layer.bias])
    flat = torch.cat([direct[0], direct[1][:, None]], 1).flatten()
    assert torch.allclose(g_train[0].double(), flat, atol=1e-6)
    hessian = LastLayer.gauss_newton(p.double(), h1.double())
    hessian += REG * torch.eye(len(hessian), dtype=torch.float64)
    predicted = (g_test.double() @ torch.linalg.solve(hessian, g_train.double().T))[0].numpy()
    base = F.cross_entropy(layer(x_test), y_test).item()
    actual = []
    for i in range(n):
        keep = torch.arange(n) != i
        refit = fit(x[keep], y[keep], start=layer)
        actual.append(F.cross_entropy(refit(x_test), y_test).item() - base)
    pearson, spearman = pearsonr(predicted, actual)[0], spearmanr(predicted, actual)[0]
    print(f"leave-one-out: Pearson {pearson:.3f}, Spearman {spearman:.3f}")
    assert pearson > 0.95 and spearman > 0.9


def test_projected_gradients_are_a_projection_of_autograd() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(2 * 4 * 4, 3))
    x, y = torch.randn(5, 3, 6, 6), torch.tensor([0, 1, 2, 1, 0])
    projected = Projected(model, dim=16)
    features = projected.features(x, y)
    loss = F.cross_entropy(model(x[2:3]), y[2:3])
    grads = torch.autograd.grad(loss, list(model.parameters()))
    flat = torch.cat([g.flatten() for g in grads])
    assert torch.allclose(features[2], flat @ projected.projection, atol=1e-5)


def test_projection_too_large_is_refused() -> None:
    with pytest.raises(DataError, match="influence"):
        Projected(nn.Linear(20_000, 1_000), dim=16)


@pytest.mark.parametrize("method", ["influence", "trak", "tracin", "cosine"])
def test_index_build_query_and_resume(demo: Workspace, method: str) -> None:
    info = demo.attribution.build(method, dim=64)
    assert info.complete and info.images == 200
    test_image = demo.images("test", limit=1)[0]
    found = demo.attribution.query(test_image.id, k=5, method=method)
    helpful, harmful = found["helpful"], found["harmful"]
    assert len(helpful) == 5 and helpful[0].score >= helpful[-1].score >= harmful[-1].score
    assert all(np.isfinite(s.score) for s in helpful + harmful)
    train_ids = {i.id for i in demo.images("train")}
    assert {s.image_id for s in helpful} <= train_ids
    # An interrupted build continues: forget the last rows and build again.
    index = demo.attribution._index(method, None)
    meta = index._meta_path()
    import json

    data = json.loads(meta.read_text())
    data["done"] = 64
    meta.write_text(json.dumps(data))
    assert not index.info().complete
    with pytest.raises(NotFoundError, match="incomplete"):
        demo.attribution.query(test_image.id, method=method)
    demo.attribution.build(method, dim=64)
    again = demo.attribution.query(test_image.id, k=5, method=method)
    assert [s.image_id for s in again["helpful"]] == [s.image_id for s in helpful]


def test_suspicious_queue_and_api(demo: Workspace) -> None:
    with pytest.raises(NotFoundError, match="missing"):
        demo.attribution.suspicious()
    demo.attribution.build(dim=64)
    queue = demo.attribution.suspicious(limit=20)
    assert 0 < len(queue) <= 20
    assert [s.score for s in queue] == sorted((s.score for s in queue), reverse=True)
    client = TestClient(create_app(demo))
    image = demo.images("test", limit=1)[0]
    body = client.get(f"/api/v1/images/{image.id}/attribution", params={"k": 3}).json()
    assert len(body["helpful"]) == 3 and len(body["harmful"]) == 3
    listed = client.get("/api/v1/attribution/suspicious", params={"limit": 5}).json()
    assert [s["image_id"] for s in listed] == [s.image_id for s in queue[:5]]
    status = client.get("/api/v1/attribution").json()
    assert status[0]["method"] == "trak" and status[0]["complete"] is True
    queued = client.post("/api/v1/jobs/attribution", json={"method": "cosine", "dim": 32})
    assert queued.status_code == 202
    demo.jobs.run_next()
    assert demo.jobs.get(queued.json()["id"]).status == "succeeded"
    assert client.get(f"/api/v1/images/{image.id}/attribution?method=nope").status_code == 422


def test_tracin_sums_learning_rate_weighted_gradient_products(demo: Workspace) -> None:
    from robustar.explain.attribution import AttributionIndex

    demo.attribution.build("tracin")
    index = AttributionIndex(demo, demo.model().id, "tracin")
    test_image = demo.images("test", limit=1)[0]
    scores = index.scores(index.test_features([test_image.id]))[0]
    curves = demo.training_curves(demo.model().id)
    folder = (demo.root / demo.model().checkpoint).parent
    x = demo.transform(demo.load_image(test_image.id))[None]
    train = demo.images("train", sort="id", limit=1)[0]
    x_train = demo.transform(demo.load_image(train.id))[None]
    expected = 0.0
    from robustar.explain.gradients import LastLayer
    from robustar.models.checkpoint import load_weights
    from robustar.models.registry import create_model

    for epoch in curves:
        model = load_weights(
            create_model("tiny_cnn", 10), folder / f"epoch-{epoch.epoch:03d}.safetensors", 10
        )
        last = LastLayer(model)
        g_test = last.features(x, torch.tensor([test_image.label]))[0][0]
        g_train = last.features(x_train, torch.tensor([train.label]))[0][0]
        expected += epoch.learning_rate * float(g_test @ g_train)
    position = list(index.ids()).index(train.id)
    assert scores[position] == pytest.approx(expected, rel=1e-3)


def test_galleries_filter_and_sort_by_suspicion(demo: Workspace) -> None:
    demo.attribution.build(dim=64)
    queue = demo.attribution.suspicious(limit=10_000)
    listed = demo.images("train", suspicious=True, sort="suspicion", descending=True)
    assert [i.id for i in listed] == [s.image_id for s in queue]
    assert demo.count("train", suspicious=False) == 200 - len(queue)
    label = demo.image(queue[0].image_id).label
    of_class = demo.images("train", suspicious=True, label=label, sort="suspicion", descending=True)
    assert [i.id for i in of_class] == [
        s.image_id for s in queue if demo.image(s.image_id).label == label
    ]
    client = TestClient(create_app(demo))
    page = client.get(
        "/api/v1/images",
        params={
            "split": "train",
            "suspicious": "true",
            "sort": "suspicion",
            "order": "desc",
            "page_size": 5,
        },
    ).json()
    assert [i["id"] for i in page["items"]] == [s.image_id for s in queue[:5]]
