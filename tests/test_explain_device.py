"""Explanations run where `[runtime] device` says: saliency, activation maximisation and every
attribution method. Without CUDA, asking for it fails with the configuration's fix (which shows
that explanations read the setting); with CUDA, the results agree with the CPU's."""

import io
import shutil

import numpy as np
import pytest
import torch
from PIL import Image
from scipy.stats import spearmanr

from robustar import Workspace
from robustar.errors import ConfigError

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
    """Everything an explanation computes, on one device, through the public calls."""
    demo.config.runtime.device = device
    shutil.rmtree(demo.paths.cache, ignore_errors=True)  # maps and indexes alike
    tests = demo.images("test", limit=4)
    found = {}
    for method in METHODS:
        demo.attribution.build(method, dim=64)
        for image in tests:
            other = (image.label + 1) % len(demo.classes)
            for target in (None, other):
                ranked = demo.attribution.query(image.id, 200, method, target=target).helpful
                order = sorted(ranked, key=lambda s: s.image_id)
                found[f"{method} {image.id} {target}"] = np.array([s.score for s in order])
        if method != "influence-cg":
            queue = demo.attribution.suspicious(method, limit=200)
            found[f"{method} queue"] = np.array([s.score for s in queue])
    for method in ("max_gradient", "gradcam", "integrated_gradients"):
        found[method] = demo.explain.saliency(tests[0].id, method, 0).map
    png = demo.explain.activation_maximisation(0)
    found["activation"] = np.asarray(Image.open(io.BytesIO(png)), dtype=float)
    return found


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_explanations_on_cuda_agree_with_the_cpu(
    demo: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Full float32 on the GPU too, so differences are rounding, not TF32's 10-bit mantissa.
    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", False)
    monkeypatch.setattr(torch.backends.cuda.matmul, "allow_tf32", False)
    cpu, cuda = _results(demo, "cpu"), _results(demo, "cuda")
    assert cpu.keys() == cuda.keys()
    for name, expected in cpu.items():
        got = cuda[name]
        assert got.shape == expected.shape and np.isfinite(got).all(), name
        rho = spearmanr(expected.ravel(), got.ravel()).statistic
        assert rho > 0.99, (name, rho)
