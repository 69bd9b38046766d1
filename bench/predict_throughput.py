"""Prediction throughput of the engine (inference + storing rows) against a bare PyTorch loop."""

from __future__ import annotations

import shutil

import torch

from bench.common import OUTPUT, best_of, table
from robustar.data.spurious_digits import DemoSpec
from robustar.demo import create_demo
from robustar.models.checkpoint import save_weights
from robustar.models.device import select_device
from robustar.models.registry import create_model
from robustar.predict.engine import make_loader

SMOKE = {"repeats": 1, "test_images": 100}


def run(repeats: int = 3, test_images: int = 5000) -> str:
    root = OUTPUT / "predict-ws"
    shutil.rmtree(root, ignore_errors=True)
    spec = DemoSpec(counts=(("train", 100), ("test", test_images)))
    workspace = create_demo(root, spec, train=False)
    torch.manual_seed(0)
    save_weights(create_model("small_cnn", 10), OUTPUT / "random.safetensors")
    workspace.import_model(OUTPUT / "random.safetensors")
    config = workspace.config.runtime
    device = select_device(config.device)
    images = workspace.count("test")

    def bare() -> None:
        model = workspace.load_model().eval().to(device)
        loader = make_loader(workspace.dataset("test"), config.batch_size, config.workers, device)
        outputs = []
        with torch.inference_mode():
            for batch, _, _ in loader:
                outputs.append(model(batch.to(device)).softmax(1).cpu())
        assert sum(len(o) for o in outputs) == images

    def engine() -> None:
        assert workspace.predict("test").images == images

    bare_time, engine_time = float("inf"), float("inf")
    for _ in range(repeats):  # interleaved, so both see the same machine load
        bare_time = min(bare_time, best_of(1, bare))
        engine_time = min(engine_time, best_of(1, engine))
    workspace.close()
    rows = [
        ["bare PyTorch loop (baseline)", f"{bare_time:.2f}", f"{images / bare_time:,.0f}", "1.00"],
        [
            "robustar predict",
            f"{engine_time:.2f}",
            f"{images / engine_time:,.0f}",
            f"{bare_time / engine_time:.2f}",
        ],
    ]
    return table(
        f"Prediction, {images:,} images 32x32, small_cnn, batch {config.batch_size}, "
        f"{device.type} (target: engine >= 0.90x bare)",
        ["run", "seconds", "images/s", "throughput vs bare"],
        rows,
    )


if __name__ == "__main__":
    print(run())
