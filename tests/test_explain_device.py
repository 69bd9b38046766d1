"""Explanations run where `[runtime] device` says: saliency, activation maximisation and every
attribution method. Without CUDA, asking for it fails with the configuration's fix (which shows
that explanations honour the setting); with CUDA, the results agree with the CPU's."""

import numpy as np
import pytest
import torch
from scipy.stats import spearmanr

from robustar import Workspace
from robustar.errors import ConfigError
from robustar.explain.saliency import saliency

METHODS = ["influence", "influence-cg", "trak", "tracin", "cosine"]


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_explanations_refuse_a_device_this_machine_lacks(demo: Workspace) -> None:
    demo.config.runtime.device = "cuda"
    image = demo.images("test", limit=1)[0]
    for explain in (
        lambda: demo.attribution.build("cosine", dim=32),
        lambda: demo.explain.saliency(image.id, "max_gradient"),
        lambda: demo.explain.activation_maximisation(0),
    ):
        with pytest.raises(ConfigError, match=r"\[runtime\] device"):
            explain()


def _results(demo: Workspace, device: str) -> dict[str, np.ndarray]:
    demo.config.runtime.device = device
    demo.explain._models.clear()  # the loaded model belongs to the other device
    found = {}
    tests = [i.id for i in demo.images("test", limit=4)]
    for method in METHODS:
        demo.attribution.build(method, dim=64, fresh=True)
        index, features = demo.attribution._features(demo.attribution._index(method, None), tests)
        found[method] = index.scores(features)
    for method in ("max_gradient", "gradcam", "integrated_gradients"):
        model = demo.explain._model(demo.model().id)
        x = demo.transform(demo.load_image(tests[0]))[None]
        found[method] = saliency(model, x.to(device), method, 0)
    return found


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_explanations_on_cuda_agree_with_the_cpu(demo: Workspace) -> None:
    cpu, cuda = _results(demo, "cpu"), _results(demo, "cuda")
    for name, expected in cpu.items():
        got = cuda[name]
        assert got.shape == expected.shape and np.isfinite(got).all(), name
        rho = spearmanr(expected.ravel(), got.ravel()).statistic
        assert rho > 0.99, (name, rho)
