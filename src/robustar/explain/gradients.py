"""Per-sample gradients, the features that data attribution compares.

`LastLayer`: exact gradients of the final linear layer, with the layer's input, which also give
the exact Gauss-Newton Hessian of that layer (the true Hessian, since cross-entropy is convex in
the logits and the logits are linear in those weights). `PerSample`: gradients of all
parameters with torch.func (vmap), of the loss or of TRAK's margin. `Projection`: a fixed,
seeded Gaussian matrix that maps them to a small dimension (E[P P^T] = I, so dot products are
kept in expectation).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, grad, vmap

from robustar.errors import DataError

MAX_PROJECTION_ENTRIES = 200_000_000  # parameters x dimension held in memory (800 MB)


def final_linear(model: nn.Module) -> tuple[str, nn.Linear]:
    linears = [(name, m) for name, m in model.named_modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise DataError(
            "last-layer attribution needs a final nn.Linear layer; this model has none",
            "use the 'trak' or 'cosine' method (all parameters, projected)",
        )
    return linears[-1]


class LastLayer:
    """Captures the final linear layer's input to form exact per-sample gradients."""

    def __init__(self, model: nn.Module) -> None:
        self.model = model.eval()
        _, self.layer = final_linear(model)
        self._inputs: torch.Tensor | None = None
        self.layer.register_forward_hook(self._keep)

    def _keep(self, _module: nn.Module, inputs: tuple[torch.Tensor, ...], _out: object) -> None:
        self._inputs = inputs[0].detach()

    @torch.no_grad()
    def features(
        self, x: torch.Tensor, y: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(gradients (B, C*(F+1)), softmax (B, C), layer input with a 1 appended (B, F+1))."""
        logits = self.model(x).float()
        h = self._inputs.flatten(1).float()  # type: ignore[union-attr]
        h1 = torch.cat([h, torch.ones(len(h), 1, device=h.device)], 1)
        p = logits.softmax(1)
        residual = p - F.one_hot(y, logits.shape[1]).float()
        return torch.einsum("bc,bf->bcf", residual, h1).flatten(1), p, h1

    @staticmethod
    def gauss_newton(p: torch.Tensor, h1: torch.Tensor) -> torch.Tensor:
        """Sum over the batch of (diag(p) - p p^T) kron (h h^T), laid out like the features."""
        s = torch.diag_embed(p) - torch.einsum("bi,bj->bij", p, p)
        hh = torch.einsum("bf,bg->bfg", h1, h1)
        c, f = p.shape[1], h1.shape[1]
        return torch.einsum("bij,bfg->ifjg", s, hh).reshape(c * f, c * f)


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


class PerSample:
    """Flat per-sample gradients of all parameters, batched with torch.func.vmap."""

    def __init__(self, model: nn.Module) -> None:
        self.model = model.eval()
        self.params = {k: v.detach() for k, v in model.named_parameters()}
        self.buffers = {k: v.detach() for k, v in model.named_buffers()}

        def logits(params: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
            return functional_call(self.model, (params, self.buffers), (x[None],))[0].float()

        def loss(params: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            return F.cross_entropy(logits(params, x)[None], y[None])

        def margin(
            params: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor
        ) -> tuple[torch.Tensor, torch.Tensor]:
            """TRAK's output function log(p / (1 - p)), with p the label's probability."""
            log_p = logits(params, x).log_softmax(0)
            label = torch.arange(len(log_p), device=log_p.device) == y
            own = log_p.masked_fill(~label, float("-inf")).logsumexp(0)
            others = log_p.masked_fill(label, float("-inf")).logsumexp(0)
            return own - others, own.exp()

        self._loss = vmap(grad(loss), in_dims=(None, 0, 0))
        self._margin = vmap(grad(margin, has_aux=True), in_dims=(None, 0, 0))

    @staticmethod
    def _flat(grads: dict[str, torch.Tensor]) -> torch.Tensor:
        return torch.cat([g.flatten(1) for g in grads.values()], 1)

    def loss(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Gradients of the cross-entropy loss, (B, parameters)."""
        return self._flat(self._loss(self.params, x, y))

    def margin(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Gradients of the margin, (B, parameters), and the label's probability, (B,)."""
        grads, p = self._margin(self.params, x, y)
        return self._flat(grads), p


class Projection:
    """A seeded Gaussian (parameters, dim) matrix scaled by 1/sqrt(dim)."""

    def __init__(
        self, size: int, dim: int, device: torch.device | None = None, seed: int = 0
    ) -> None:
        if size * dim > MAX_PROJECTION_ENTRIES:
            raise DataError(
                f"projecting {size:,} parameters to {dim} dimensions needs "
                f"{size * dim * 4 / 1e9:.1f} GB; too much for this method here",
                "lower the projection dimension, or use the 'influence' method (last layer)",
            )
        generator = torch.Generator().manual_seed(seed)  # drawn on the CPU: the same everywhere
        self.matrix = (torch.randn(size, dim, generator=generator) / dim**0.5).to(device)

    def __call__(self, flat: torch.Tensor) -> torch.Tensor:
        return flat @ self.matrix
