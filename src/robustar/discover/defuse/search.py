"""Identification: perturb each training image's code, decode, classify, and keep the
decodings the classifier labels differently from the source image, at most `keep` per image,
those with the smallest ‖ε‖. Only the kept codes leave a batch, never the decoded images."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from robustar.config import ImageConfig
from robustar.discover.defuse.pixels import to_model_input
from robustar.discover.defuse.settings import SearchSettings
from robustar.discover.defuse.vae import ConvVae

DECODE_CHUNK = 2048  # decodings classified at a time


@dataclass(frozen=True)
class Kept:
    """One kept error: its code, source image and label, the prediction and ‖ε‖."""

    image_id: int
    label: int
    predicted: int
    radius: float
    norm: float
    code: np.ndarray


def perturbations(
    images: int, latent: int, settings: SearchSettings, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """ε of shape (images, R·Q, latent), radius·(Beta(a, a) - 0.5): centred on the code (the
    reference adds Beta(a, a) uncentred); and the radius of each of the R·Q columns."""
    radii = np.asarray(settings.radii, dtype=np.float32)
    q = settings.samples
    raw = rng.beta(settings.a, settings.a, size=(images, len(radii), q, latent)) - 0.5
    eps = (raw * radii[None, :, None, None]).astype(np.float32)
    return eps.reshape(images, len(radii) * q, latent), np.repeat(radii, q)


def keep_smallest(norms: np.ndarray, flipped: np.ndarray, keep: int) -> np.ndarray:
    """Indices of at most `keep` flipped samples with the smallest norms, smallest first."""
    candidates = np.flatnonzero(flipped)
    return candidates[np.argsort(norms[candidates], kind="stable")[:keep]]


@torch.inference_mode()
def search_batch(
    vae: ConvVae,
    classifier: nn.Module,
    image: ImageConfig,
    pixels: torch.Tensor,
    labels: list[int],
    ids: list[int],
    settings: SearchSettings,
    rng: np.random.Generator,
    device: torch.device,
) -> tuple[list[Kept], np.ndarray, np.ndarray]:
    """The kept errors of a batch of training images, and per radius the samples drawn and
    the samples whose prediction differs from the source label."""
    mu = vae.encode(pixels.to(device))[0].cpu().numpy()
    eps, radius = perturbations(len(mu), vae.latent, settings, rng)
    codes = mu[:, None, :] + eps
    flat = torch.from_numpy(codes.reshape(-1, vae.latent))
    answers = np.empty(len(flat), dtype=np.int64)
    for start in range(0, len(flat), DECODE_CHUNK):
        z = flat[start : start + DECODE_CHUNK].to(device)
        logits = classifier(to_model_input(vae.decode(z), image))
        answers[start : start + len(z)] = logits.argmax(1).cpu().numpy()
    predicted = answers.reshape(len(mu), -1)
    flipped = predicted != np.asarray(labels)[:, None]
    norms = np.linalg.norm(eps, axis=2)
    kept = [
        Kept(ids[i], labels[i], int(predicted[i, j]), float(radius[j]), float(norms[i, j]),
             codes[i, j].copy())
        for i in range(len(mu))
        for j in keep_smallest(norms[i], flipped[i], settings.keep)
    ]  # fmt: skip
    radii = np.asarray(settings.radii)
    drawn = np.array([flipped[:, radius == r].size for r in radii])
    flips = np.array([flipped[:, radius == r].sum() for r in radii])
    return kept, drawn, flips
