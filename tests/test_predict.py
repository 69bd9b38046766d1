import numpy as np
import pytest
import torch

from robustar import Workspace


def test_predictions_match_a_direct_forward_pass(demo: Workspace) -> None:
    images = demo.images("test", sort="id", limit=20)
    model = demo.load_model().eval()
    batch = torch.stack([demo.transform(demo.load_image(i.id)) for i in images])
    with torch.no_grad():
        expected = model(batch).softmax(1).numpy()
    stored = np.array([i.prediction.probabilities for i in images])
    np.testing.assert_allclose(stored, expected, atol=1e-5)
    for info, row in zip(images, expected, strict=True):
        assert info.prediction.predicted == int(row.argmax())
        assert info.prediction.correct == (info.label == int(row.argmax()))
        assert info.prediction.loss == pytest.approx(-np.log(row[info.label]), rel=1e-4)


def test_metrics_agree_with_the_stored_predictions(demo: Workspace) -> None:
    images = demo.images("test")
    metrics = demo.metrics("test")
    confusion = np.array(metrics.confusion)
    assert confusion.sum() == len(images) == metrics.images
    correct = sum(i.prediction.correct for i in images)
    assert metrics.accuracy == pytest.approx(correct / len(images))
    assert metrics.loss == pytest.approx(np.mean([i.prediction.loss for i in images]))
    for k, per_class in enumerate(metrics.per_class):
        of_class = [i for i in images if i.label == k]
        assert per_class.support == len(of_class)
        if of_class:
            hits = sum(i.prediction.predicted == k for i in of_class)
            assert per_class.accuracy == pytest.approx(hits / len(of_class))
    assert demo.current_model.metrics["test"]["accuracy"] == pytest.approx(metrics.accuracy)


def test_filters_and_sorting(demo: Workspace) -> None:
    wrong = demo.images("test", correct=False, sort="loss", descending=True)
    assert wrong and all(not i.prediction.correct for i in wrong)
    losses = [i.prediction.loss for i in wrong]
    assert losses == sorted(losses, reverse=True)
    assert demo.count("test", correct=False) == len(wrong)
    assert demo.count("test", correct=True) + len(wrong) == demo.count("test")

    confident = demo.images("test", min_confidence=0.5, max_confidence=0.9, sort="confidence")
    values = [i.prediction.confidence for i in confident]
    assert values == sorted(values) and all(0.5 <= v <= 0.9 for v in values)

    threes = demo.images("test", label="3", predicted=5)
    assert all(i.label == 3 and i.prediction.predicted == 5 for i in threes)
    page = demo.images("test", sort="name", limit=7, offset=7)
    names = [i.relpath for i in demo.images("test", sort="name")]
    assert [i.relpath for i in page] == names[7:14]


def test_predicting_again_replaces_rows(demo: Workspace) -> None:
    first = demo.metrics("test")
    again = demo.predict("test")
    assert again.images == first.images
    assert again.confusion == first.confusion


def test_pool_predictions_have_no_loss(demo: Workspace) -> None:
    demo.predict("pool")
    pool = demo.images("pool")
    assert pool and all(i.prediction and i.prediction.loss is None for i in pool)
    assert all(i.prediction.correct is None for i in pool)
