"""Saliency maps and activation-maximisation images."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query, Response

from robustar.server.deps import get_workspace
from robustar.workspace import Workspace

router = APIRouter(tags=["explain"])
Method = Literal[
    "gradient", "max_gradient", "smoothgrad", "integrated_gradients", "guided_backprop", "gradcam"
]
PNG = {200: {"content": {"image/png": {}}, "description": "a PNG image"}}


@router.get("/images/{image_id}/saliency", responses=PNG, response_class=Response)
def image_saliency(
    image_id: int,
    method: Method = "max_gradient",
    target: int | None = Query(None, ge=0, description="class; default: the predicted one"),
    version: int | None = Query(None, description="default: the current version"),
    layer: str | None = Query(None, description="Grad-CAM layer; default: the last conv"),
    workspace: Workspace = Depends(get_workspace),
) -> Response:
    """At native size: an RGBA heat map whose alpha is the normalised saliency (the signed
    RGB gradient for method=gradient). X-Target names the class; X-Mask-Share is the share of
    saliency inside the spurious mask when the image has one."""
    heat, explained = workspace.explain.saliency(image_id, method, target, version, layer)
    headers = {"X-Target": str(explained), "Cache-Control": "no-store"}
    share = workspace.explain.mass_in_mask(image_id, "spurious", method, version)
    if share is not None:
        headers["X-Mask-Share"] = f"{share:.4f}"
    return Response(workspace.explain.render(heat), media_type="image/png", headers=headers)


@router.get("/models/{version}/activation/{target}", responses=PNG, response_class=Response)
def activation(
    version: int, target: int, workspace: Workspace = Depends(get_workspace)
) -> Response:
    """An input the version scores as `target` as strongly as it can (at the model's size)."""
    png = workspace.explain.activation_maximisation(target, version)
    return Response(png, media_type="image/png")
