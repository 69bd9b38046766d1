"""Defuse's parts on small arrays: centred perturbations, the kept errors, region filtering,
the KL warm-up, VAE checkpoints, the λ-weighted objective and the rare-style problem."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from robustar.config import ImageConfig
from robustar.data.problems import RareProblem, generate_rare, is_rare
from robustar.discover.defuse.regions import fit_regions, heavy
from robustar.discover.defuse.search import keep_smallest, perturbations, search_batch
from robustar.discover.defuse.settings import RegionSettings, SearchSettings
from robustar.discover.defuse.vae import (
    ConvVae,
    beta_at,
    kl_divergence,
    load_vae,
    save_vae,
)
from robustar.errors import CheckpointError, DataError
from robustar.train.mixed import WeightedMix


def test_perturbations_are_centred_and_scaled_by_radius() -> None:
    settings = SearchSettings(samples=400, a=50, radii=[1.0, 20.0])
    eps, radius = perturbations(3, 6, settings, np.random.default_rng(0))
    assert eps.shape == (3, 800, 6) and radius.tolist() == [1.0] * 400 + [20.0] * 400
    small, large = eps[:, :400], eps[:, 400:]
    assert abs(small.mean()) < 0.002 and abs(large.mean()) < 0.05  # centred, not +0.5·radius
    assert np.abs(small).max() <= 0.5 and np.abs(large).max() <= 10
    assert large.std() == pytest.approx(20 * (1 / (4 * 101)) ** 0.5, rel=0.05)


def test_keep_smallest_takes_at_most_keep_flipped_by_norm() -> None:
    norms = np.array([0.5, 0.1, 0.9, 0.2, 0.3, 0.05, 0.7, 0.4])
    flipped = np.array([1, 1, 1, 0, 1, 0, 1, 1], dtype=bool)
    assert keep_smallest(norms, flipped, 5).tolist() == [1, 4, 7, 0, 6]
    assert keep_smallest(norms, np.zeros(8, dtype=bool), 5).tolist() == []


class Constant(nn.Module):
    """Answers class 0 for everything."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tensor([5.0, 0.0, 0.0]).expand(len(x), 3)


def test_search_keeps_only_codes_whose_answer_differs_from_the_source_label() -> None:
    vae = ConvVae(16, 4).eval()
    settings = SearchSettings(samples=10, radii=[5.0, 10.0], keep=3)
    image = ImageConfig(size=24, mean=[0.5] * 3, std=[0.25] * 3)
    pixels = torch.rand(3, 3, 16, 16)
    kept, drawn, flips = search_batch(
        vae, Constant(), image, pixels, [0, 2, 1], [7, 8, 9], settings,
        np.random.default_rng(0), torch.device("cpu"),
    )  # fmt: skip
    assert drawn.tolist() == [30, 30] and flips.tolist() == [20, 20]
    assert sorted({k.image_id for k in kept}) == [8, 9]  # image 7 is class 0: never an error
    for image_id in (8, 9):
        mine = [k for k in kept if k.image_id == image_id]
        assert len(mine) == 3 and [k.norm for k in mine] == sorted(k.norm for k in mine)
        assert all(k.predicted == 0 and k.code.shape == (4,) for k in mine)


def test_heavy_keeps_components_above_the_weight_threshold() -> None:
    assert heavy(np.array([0.005, 0.6, 0.01, 0.3, 0.085]), 0.01) == [1, 3, 4]


def test_regions_are_the_dense_clusters_with_separate_held_out_samples() -> None:
    rng = np.random.default_rng(0)
    codes = np.concatenate(
        [rng.normal(-4, 0.3, (300, 3)), rng.normal(4, 0.3, (200, 3)), rng.normal(0, 9, (2, 3))]
    )
    found = fit_regions(codes, RegionSettings(max_components=10, samples=16, min_weight=0.05))
    means = sorted(round(float(r.mean[0])) for r in found)
    assert means == [-4, 4]
    for region in found:
        assert region.samples.shape == region.held_out.shape == (16, 3)
        assert not np.allclose(region.samples, region.held_out)
        assert np.abs(region.samples - region.mean).max() < 0.3  # N(μ, 0.01·Σ): close in
    assert sum(r.size for r in found) >= 498
    with pytest.raises(DataError, match="radii"):
        fit_regions(codes[:1], RegionSettings())


def test_kl_warms_up_and_is_the_standard_closed_form() -> None:
    assert beta_at(0, 10, 4.0, 2) == 0 and beta_at(10, 10, 4.0, 2) == 2.0
    assert beta_at(500, 10, 4.0, 2) == 4.0 and beta_at(0, 10, 4.0, 0) == 4.0
    assert kl_divergence(torch.zeros(2, 5), torch.zeros(2, 5)).tolist() == [0.0, 0.0]
    mu, logvar = torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, np.log(4.0)]])
    expected = 0.5 * (1.0) + 0.5 * (4.0 - 1 - np.log(4.0))
    assert kl_divergence(mu, logvar).item() == pytest.approx(expected, rel=1e-5)


def test_vae_decodes_to_its_image_size_in_unit_range() -> None:
    vae = ConvVae(32, 12)
    x = torch.rand(2, 3, 32, 32)
    recon, mu, logvar = vae(x)
    assert recon.shape == x.shape and mu.shape == logvar.shape == (2, 12)
    assert recon.min() >= 0 and recon.max() <= 1


def test_a_vae_checkpoint_for_another_size_is_refused_by_name(tmp_path: Path) -> None:
    save_vae(ConvVae(32, 12), tmp_path / "vae.safetensors")
    assert load_vae(tmp_path / "vae.safetensors", 32, 12).latent == 12
    with pytest.raises(CheckpointError, match="32-px images and 12 latent") as error:
        load_vae(tmp_path / "vae.safetensors", 64, 12)
    assert "image_size=32 and latent=12" in (error.value.fix or "")
    with pytest.raises(
        CheckpointError, match="12 latent dimensions, this run expects 32 px and 10"
    ):
        load_vae(tmp_path / "vae.safetensors", 32, 10)
    torch.save(nn.Linear(2, 2).state_dict(), tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="not a Defuse VAE"):
        load_vae(tmp_path / "other.pt", 32, 12)


def test_weighted_mix_weighs_the_extra_tail_of_the_batch() -> None:
    model = nn.Linear(4, 3)
    x, y = torch.randn(6, 4), torch.tensor([0, 1, 2, 0, 1, 2])
    logits = model(x)
    head, tail = F.cross_entropy(logits[:4], y[:4]), F.cross_entropy(logits[4:], y[4:])
    loss, _ = WeightedMix(2, (1.0, 0.1))(model, x, y, None)
    assert loss.item() == pytest.approx((head + 0.1 * tail).item(), rel=1e-5)
    alone, _ = WeightedMix(2, (0.0, 1.0))(model, x, y, None)
    assert alone.item() == pytest.approx(tail.item(), rel=1e-5)


def test_rare_problem_has_the_rare_style_at_its_share(tmp_path: Path) -> None:
    counts = {"train": 200, "validation": 10, "test": 20, "rare-test": 10, "oracle-train": 20}
    problem = generate_rare(tmp_path / "p", share=0.05, classes=3, size=24, counts=counts)
    files = list(problem.folder("train").rglob("*.png"))
    assert len(files) == 200 and sum(map(is_rare, files)) == 10
    assert all(is_rare(f) for f in problem.folder("rare-test").rglob("*.png"))
    assert sum(map(is_rare, problem.folder("oracle-train").rglob("*.png"))) == 10
    assert RareProblem.load(tmp_path / "p") == problem
    assert problem.config(oracle=True).data.train.endswith("oracle-train")
    with pytest.raises(DataError, match="rare style"):
        generate_rare(tmp_path / "q", style="bold")  # type: ignore[arg-type]
