"""Distillation: a Dirichlet-process Gaussian mixture over the kept codes; the components
heavy enough are error regions, each with codes sampled near its mean for training and as
many again held out for measuring the correction."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.mixture import BayesianGaussianMixture
from threadpoolctl import threadpool_limits

from robustar.discover.defuse.settings import RegionSettings
from robustar.errors import DataError


@dataclass(frozen=True)
class FittedRegion:
    component: int
    weight: float
    size: int  # kept codes the mixture assigns to it
    mean: np.ndarray
    samples: np.ndarray  # (n, latent), for training
    held_out: np.ndarray  # (n, latent), never trained on


def heavy(weights: np.ndarray, min_weight: float) -> list[int]:
    """Components whose weight is above `min_weight`, heaviest first."""
    order = np.argsort(-weights, kind="stable")
    return [int(k) for k in order if weights[k] > min_weight]


def fit_regions(codes: np.ndarray, settings: RegionSettings) -> list[FittedRegion]:
    if len(codes) < 2:
        raise DataError(
            f"the search kept {len(codes)} error codes, too few for regions",
            "search again with larger radii (e.g. radii=[10, 20, 40]) or more samples",
        )
    rng = np.random.default_rng(settings.seed)
    fitted = codes
    if len(codes) > settings.subsample:
        fitted = codes[rng.choice(len(codes), settings.subsample, replace=False)]
    mixture = BayesianGaussianMixture(
        n_components=min(settings.max_components, len(fitted)),
        covariance_type="full",
        weight_concentration_prior_type="dirichlet_process",
        max_iter=settings.max_iter,
        random_state=settings.seed,
    )
    # the matrices are latent-sized (a dozen rows): BLAS threads only spin, 20x slower on a
    # busy machine
    with threadpool_limits(1):
        mixture.fit(fitted)
        sizes = np.bincount(mixture.predict(codes), minlength=mixture.n_components)
    found = []
    for k in heavy(mixture.weights_, settings.min_weight):
        mean, cov = mixture.means_[k], mixture.covariances_[k] * settings.scale
        draw = rng.multivariate_normal(mean, cov, size=2 * settings.samples).astype(np.float32)
        found.append(
            FittedRegion(
                k,
                float(mixture.weights_[k]),
                int(sizes[k]),
                mean.astype(np.float32),
                draw[: settings.samples],
                draw[settings.samples :],
            )
        )
    return found
