"""What input a network expects (mean, std, size), as its weights or architecture declare it,
checked against the workspace's [image] settings: a model trained with other normalisation
would otherwise be scored, silently, on inputs it never saw."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from torch import nn

from robustar.config import ImageConfig

# safetensors metadata keys (string values, JSON lists) that Robustar writes and reads
MEAN, STD, SIZE = "mean", "std", "image_size"
_SIZE_KEYS = (SIZE, "input_size", "img_size")


@dataclass(frozen=True)
class DeclaredInput:
    """Input settings some source declares; None where it says nothing."""

    source: str  # e.g. "the checkpoint's metadata", "timm's pretrained_cfg"
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None
    size: int | None = None


def write_metadata(image: ImageConfig) -> dict[str, str]:
    """The [image] settings as safetensors metadata, so the weights carry what they expect."""
    return {MEAN: json.dumps(image.mean), STD: json.dumps(image.std), SIZE: str(image.size)}


def _floats(value: object) -> tuple[float, ...] | None:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return None
    if isinstance(value, int | float):
        return (float(value),)
    if isinstance(value, list | tuple) and value and all(isinstance(v, int | float) for v in value):
        return tuple(float(v) for v in value)
    return None


def _size(value: object) -> int | None:
    """224, "224", [224, 224] or timm's (3, 224, 224): the last number is the width."""
    found = _floats(value)
    return None if not found or found[-1] < 1 else int(found[-1])


def _declared(values: Mapping[str, object], source: str) -> DeclaredInput | None:
    size = next((_size(values[k]) for k in _SIZE_KEYS if k in values), None)
    found = DeclaredInput(source, _floats(values.get(MEAN)), _floats(values.get(STD)), size)
    return None if found == DeclaredInput(source) else found


def from_checkpoint(metadata: Mapping[str, object]) -> DeclaredInput | None:
    """mean / std / image_size (or input_size) from a checkpoint: safetensors metadata, the
    top-level entries of a torch.save dict, or a timm-style `pretrained_cfg` inside it."""
    inner = metadata.get("pretrained_cfg")
    if isinstance(inner, Mapping):
        return _declared(inner, "the checkpoint's pretrained_cfg")
    return _declared(metadata, "the checkpoint's metadata")


def from_architecture(model: nn.Module) -> DeclaredInput | None:
    """What the architecture declares: timm models carry a `pretrained_cfg` (mean, std,
    input_size) saying how their published weights were trained."""
    cfg = getattr(model, "pretrained_cfg", None)
    return _declared(cfg, "the architecture's pretrained_cfg") if isinstance(cfg, Mapping) else None


def _same(declared: tuple[float, ...], configured: list[float]) -> bool:
    wanted = declared * 3 if len(declared) == 1 else declared
    return len(wanted) == len(configured) and all(
        abs(a - b) < 1e-3 for a, b in zip(wanted, configured, strict=True)
    )


def _shown(values: tuple[float, ...] | list[float]) -> str:
    return ",".join(f"{v:g}" for v in values)


def mismatches(declared: DeclaredInput | None, image: ImageConfig) -> list[str]:
    """One sentence per setting the source declares otherwise than [image], with the fix."""
    if declared is None:
        return []
    found = []
    if declared.mean is not None and not _same(declared.mean, image.mean):
        found.append(f"mean {_shown(declared.mean)} (workspace: {_shown(image.mean)})")
    if declared.std is not None and not _same(declared.std, image.std):
        found.append(f"std {_shown(declared.std)} (workspace: {_shown(image.std)})")
    if declared.size is not None and declared.size != image.size:
        found.append(f"image size {declared.size} (workspace: {image.size})")
    if not found:
        return []
    flags = []
    if declared.mean is not None:
        flags.append(f"--mean {_shown(declared.mean)}")
    if declared.std is not None:
        flags.append(f"--std {_shown(declared.std)}")
    if declared.size is not None:
        flags.append(f"--image-size {declared.size}")
    return [
        f"{declared.source} says the model expects {'; '.join(found)}: predictions use the "
        f"workspace's settings; if the model was trained with its own, import it again with "
        f"{' '.join(flags)} (or set them in [image] of robustar.toml)"
    ]
