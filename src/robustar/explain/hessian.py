"""Inverse-Hessian-vector products for full-model influence, by conjugate gradient.

The curvature is the Gauss-Newton matrix of the mean training loss over a sample of training
images: G = J^T S J / n with J the Jacobian of the logits and S = diag(p) - p p^T. It is positive
semi-definite, so with damping the system is positive definite and conjugate gradient converges
without the divergence (and NaNs) that LiSSA's series can produce. Products with G cost one
forward-mode and one reverse-mode pass over the sample (the reverse pass is recorded once).
"""

from __future__ import annotations

import logging
import math

import torch
from torch import nn
from torch.func import functional_call, jvp, vjp, vmap

from robustar.errors import DataError

MAX_PARAMETERS = 5_000_000  # "small full models": beyond this, use the last layer or TRAK
POWER_ITERATIONS = 10
log = logging.getLogger(__name__)


def check_size(model: nn.Module) -> None:
    size = sum(p.numel() for p in model.parameters())
    if size > MAX_PARAMETERS:
        raise DataError(
            f"conjugate-gradient influence runs on models up to {MAX_PARAMETERS:,} "
            f"parameters; this one has {size:,}",
            "use the 'influence' (last layer) or 'trak' method",
        )


class GaussNewtonSolver:
    def __init__(
        self,
        model: nn.Module,
        sample: torch.Tensor,
        damping: float,
        max_iterations: int = 100,
        tolerance: float = 1e-2,
    ) -> None:
        check_size(model.eval())
        params = {k: v.detach() for k, v in model.named_parameters()}
        size = sum(v.numel() for v in params.values())
        buffers = {k: v.detach() for k, v in model.named_buffers()}
        self.shapes = [(k, v.shape, v.numel()) for k, v in params.items()]
        first = next(iter(params.values()))
        self.dtype, self.device = first.dtype, first.device
        sample = sample.to(self.device)
        self.max_iterations, self.tolerance = max_iterations, tolerance

        def logits(p: dict[str, torch.Tensor]) -> torch.Tensor:
            return functional_call(model, (p, buffers), (sample,)).float()

        out, self._vjp = vjp(logits, params)[:2]
        self._logits, self._params = logits, params
        self.p = out.softmax(1).detach()
        self.n = len(sample)
        # Relative damping: a share of the largest eigenvalue (power iteration), which bounds
        # the condition number by 1 / damping and so the number of iterations.
        v = torch.randn(1, size, generator=torch.Generator().manual_seed(0), dtype=self.dtype)
        v = v.to(self.device)
        largest = 0.0
        for _ in range(POWER_ITERATIONS):
            v = self._product(v / v.norm())
            largest = float(v.norm())
        self.damping = damping * largest
        if not math.isfinite(self.damping) or self.damping <= 0:
            raise DataError(
                "the model's curvature on the training sample is zero or not finite",
                "check the model's weights, or use the 'trak' method",
            )

    def _unflat(self, v: torch.Tensor) -> dict[str, torch.Tensor]:
        parts = torch.split(v, [n for _, _, n in self.shapes])
        pairs = zip(self.shapes, parts, strict=True)
        return {k: part.reshape(shape) for (k, shape, _), part in pairs}

    def _one(self, v: torch.Tensor) -> torch.Tensor:
        jv = jvp(self._logits, (self._params,), (self._unflat(v),))[1]
        s = self.p * jv - self.p * (self.p * jv).sum(1, keepdim=True)
        (g,) = self._vjp(s / self.n)
        return torch.cat([t.flatten() for t in g.values()])

    def _product(self, vectors: torch.Tensor) -> torch.Tensor:
        """G v for each row of `vectors`."""
        if len(vectors) == 1:
            return self._one(vectors[0])[None]
        return vmap(self._one)(vectors)

    def solve(self, b: torch.Tensor) -> torch.Tensor:
        """(G + damping I)^-1 b for each row of b, by conjugate gradient (batched)."""
        b = b.to(self.device, self.dtype)
        x = torch.zeros_like(b)
        r = b.clone()
        d = r.clone()
        rr = (r * r).sum(1)
        limit = (self.tolerance * b.norm(dim=1)) ** 2
        for _ in range(self.max_iterations):
            active = (rr > limit).nonzero()[:, 0]  # rows still short of the tolerance
            if len(active) == 0:
                break
            da, ra, rra = d[active], r[active], rr[active]
            ad = self._product(da) + self.damping * da
            alpha = (rra / (da * ad).sum(1).clamp_min(1e-30))[:, None]
            x[active] += alpha * da
            ra = ra - alpha * ad
            new = (ra * ra).sum(1)
            r[active] = ra
            d[active] = ra + (new / rra.clamp_min(1e-30))[:, None] * da
            rr[active] = new
        unconverged = int((rr > limit).sum())
        if unconverged:
            log.warning(
                "conjugate gradient stopped after %d iterations with %d of %d rows above the "
                "tolerance; raise the damping for a faster, better-conditioned solve",
                self.max_iterations,
                unconverged,
                len(b),
            )
        if not torch.isfinite(x).all():
            raise DataError(
                "conjugate gradient did not give a finite inverse-Hessian product",
                "raise the damping",
            )
        return x
