"""Training the VAE, resumable: after every epoch the run folder gets `vae.safetensors` (with
the image and latent size in its header), `state.pt` (epoch, optimiser, generator, curves;
read back with weights_only) and `preview.png` (reconstructions over prior samples)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from robustar.discover.defuse.pixels import grid
from robustar.discover.defuse.settings import VaeSettings
from robustar.discover.defuse.vae import ConvVae, beta_at, load_vae, save_vae, vae_loss
from robustar.progress import ProgressCallback, report
from robustar.storage import atomic_bytes, atomic_write
from robustar.train.plain import seed_everything

VAE_FILE = "vae.safetensors"
STATE_FILE = "state.pt"
PREVIEW_FILE = "preview.png"
PREVIEW = 8


@dataclass(frozen=True)
class VaeEpoch:
    epoch: int
    loss: float
    reconstruction: float
    kl: float
    beta: float
    seconds: float


def _preview(model: ConvVae, batch: torch.Tensor, device: torch.device) -> bytes:
    """Row 1: inputs, row 2: their reconstructions, row 3: decoded prior samples."""
    model.eval()
    with torch.inference_mode():
        x = batch[:PREVIEW].to(device)
        recon = model.decode(model.encode(x)[0])
        prior = model.decode(torch.randn(PREVIEW, model.latent, device=device))
    model.train()
    return grid(torch.cat([x, recon, prior]).cpu(), PREVIEW)


def train_vae(
    loader: DataLoader,
    settings: VaeSettings,
    folder: Path,
    device: torch.device,
    progress: ProgressCallback = None,
    on_epoch: Callable[[VaeEpoch], None] | None = None,
) -> tuple[ConvVae, list[VaeEpoch]]:
    """Train (or go on training, when `folder` holds an earlier run's state) and return the
    model and every epoch's curves."""
    generator = seed_everything(settings.seed)
    model = ConvVae(settings.image_size, settings.latent).to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=settings.learning_rate)
    curves: list[VaeEpoch] = []
    state_path = folder / STATE_FILE
    if state_path.is_file():
        state = torch.load(state_path, map_location="cpu", weights_only=True)
        model = load_vae(folder / VAE_FILE, settings.image_size, settings.latent).to(device)
        optimiser = torch.optim.Adam(model.parameters(), lr=settings.learning_rate)
        optimiser.load_state_dict(state["optimiser"])
        generator.set_state(state["generator"])
        torch.set_rng_state(state["torch"])
        curves = [VaeEpoch(**e) for e in state["curves"]]
    model.train()
    per_epoch = len(loader)
    total = settings.epochs * per_epoch
    step = len(curves) * per_epoch
    for epoch in range(len(curves) + 1, settings.epochs + 1):
        started = time.perf_counter()
        sums, seen, first = [0.0, 0.0, 0.0], 0, None
        beta = settings.beta
        for x, *_ in loader:
            x = x.to(device, non_blocking=True)
            first = x if first is None else first
            beta = beta_at(step, per_epoch, settings.beta, settings.warmup_epochs)
            loss, rec, kl = vae_loss(model, x, beta, settings.loss)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            for k, value in enumerate((loss, rec, kl)):
                sums[k] += value.item() * len(x)
            seen += len(x)
            step += 1
            report(progress, f"VAE epoch {epoch}/{settings.epochs}", step, total)
        seen = max(seen, 1)
        result = VaeEpoch(
            epoch, sums[0] / seen, sums[1] / seen, sums[2] / seen, beta,
            time.perf_counter() - started,
        )  # fmt: skip
        curves.append(result)
        save_vae(model, folder / VAE_FILE)
        if first is not None:
            atomic_bytes(folder / PREVIEW_FILE, _preview(model, first, device))
        state = {
            "optimiser": optimiser.state_dict(),
            "generator": generator.get_state(),
            "torch": torch.get_rng_state(),
            "curves": [asdict(e) for e in curves],
        }
        atomic_write(state_path, lambda tmp, s=state: torch.save(s, tmp))  # type: ignore[misc]
        if on_epoch is not None:
            on_epoch(result)
    return model.eval(), curves
