"""The convolutional β-VAE: 4 stride-2 convolutions down, their mirror up with a sigmoid,
the analytic KL of a diagonal Gaussian against N(0, I), and safe checkpoints that carry the
image and latent size so a mismatching file is refused by name."""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from robustar.errors import CheckpointError
from robustar.models.checkpoint import read_checkpoint, save_weights

CHANNELS = (32, 32, 64, 64)
HIDDEN = 256


class ConvVae(nn.Module):
    """Images (B, 3, S, S) in [0, 1] <-> codes (B, latent); S a multiple of 16."""

    def __init__(self, image_size: int = 32, latent: int = 12) -> None:
        super().__init__()
        self.image_size, self.latent = image_size, latent
        self.side = image_size // 16
        layers: list[nn.Module] = []
        inputs = 3
        for width in CHANNELS:
            layers += [nn.Conv2d(inputs, width, 4, 2, 1), nn.ReLU()]
            inputs = width
        flat = CHANNELS[-1] * self.side**2
        self.encoder = nn.Sequential(*layers, nn.Flatten(), nn.Linear(flat, HIDDEN), nn.ReLU())
        self.mu = nn.Linear(HIDDEN, latent)
        self.logvar = nn.Linear(HIDDEN, latent)
        up: list[nn.Module] = []
        widths = (*CHANNELS[::-1][1:], 3)
        for k, width in enumerate(widths):
            up.append(nn.ConvTranspose2d(inputs, width, 4, 2, 1))
            up.append(nn.ReLU() if k < len(widths) - 1 else nn.Sigmoid())
            inputs = width
        self.project = nn.Sequential(
            nn.Linear(latent, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, flat), nn.ReLU()
        )
        self.decoder = nn.Sequential(*up)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.encoder(x)
        return self.mu(h), self.logvar(h)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        h = self.project(z).view(-1, CHANNELS[-1], self.side, self.side)
        return self.decoder(h)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, logvar = self.encode(x)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
        return self.decode(z), mu, logvar


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, I)) per sample, the standard closed form (the reference
    code's term differs: docs/decisions.md)."""
    return -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1)


def reconstruction(recon: torch.Tensor, x: torch.Tensor, loss: str) -> torch.Tensor:
    """Summed over pixels, per sample."""
    if loss == "bce":
        per_pixel = F.binary_cross_entropy(recon, x, reduction="none")
    else:
        per_pixel = F.mse_loss(recon, x, reduction="none")
    return per_pixel.flatten(1).sum(1)


def beta_at(step: int, steps_per_epoch: int, beta: float, warmup_epochs: int) -> float:
    """The KL weight after `step` optimiser steps: linear from 0 to beta over the warm-up."""
    if warmup_epochs == 0:
        return beta
    return beta * min(1.0, step / max(1, warmup_epochs * steps_per_epoch))


def vae_loss(
    model: ConvVae, x: torch.Tensor, beta: float, loss: str
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(loss, reconstruction, KL), batch means."""
    recon, mu, logvar = model(x)
    rec = reconstruction(recon, x, loss).mean()
    kl = kl_divergence(mu, logvar).mean()
    return rec + beta * kl, rec, kl


def save_vae(model: ConvVae, path: Path) -> None:
    meta = {"kind": "defuse-vae", "image_size": str(model.image_size), "latent": str(model.latent)}
    save_weights(model, path, meta)


def load_vae(path: Path, image_size: int, latent: int) -> ConvVae:
    """A VAE checkpoint for this image and latent size; another file is refused naming both."""
    found = read_checkpoint(path)
    meta = found.metadata
    if meta.get("kind") != "defuse-vae":
        raise CheckpointError(
            f"{path} is not a Defuse VAE checkpoint (no image_size and latent in its header)",
            "give a VAE saved by Defuse (runs/defuse-N/vae.safetensors)",
        )
    size, dims = int(str(meta["image_size"])), int(str(meta["latent"]))
    if (size, dims) != (image_size, latent):
        raise CheckpointError(
            f"the VAE checkpoint {path.name} is for {size}-px images and {dims} latent "
            f"dimensions, this run expects {image_size} px and {latent}",
            f"use image_size={size} and latent={dims}, or train a VAE with the run's settings",
        )
    model = ConvVae(size, dims)
    model.load_state_dict(found.state, strict=True)
    return model
