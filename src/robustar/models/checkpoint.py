"""Load and save weights without executing code: safetensors, or torch.load(weights_only=True)."""

from __future__ import annotations

import io
import json
import pickle
import re
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import torch
from safetensors import SafetensorError
from safetensors.torch import load, load_file, save_file
from torch import nn

from robustar.errors import CheckpointError
from robustar.storage import atomic_write

_WRAPPER_KEYS = ("state_dict", "model_state_dict", "model", "net")
_SHOWN = 5
# errors whose message says what is wrong; others (KeyError '101' for a text file) get their type
_TELLING = (RuntimeError, OSError, ValueError, pickle.UnpicklingError)
UPLOAD = "(upload)"  # how messages name weights that came as bytes, not as a server file


@dataclass(frozen=True)
class Checkpoint:
    """A state dict and what came with it: safetensors metadata, or the entries of a
    torch.save dict that are not tensors (e.g. "mean", "std", "pretrained_cfg")."""

    state: dict[str, torch.Tensor]
    metadata: dict[str, object]


def _extras(obj: object) -> dict[str, object]:
    """The plain (non-tensor, non-state-dict) entries of a torch.save dict."""
    if not isinstance(obj, Mapping):
        return {}
    return {
        str(k): v
        for k, v in obj.items()
        if k == "pretrained_cfg"
        or (k not in _WRAPPER_KEYS and not isinstance(v, torch.Tensor | Mapping))
    }


def _header_metadata(read: Callable[[int, int], bytes]) -> dict[str, object]:
    """The `__metadata__` of a safetensors header; `read(offset, length)` gives bytes."""
    try:
        (length,) = struct.unpack("<Q", read(0, 8))
        header = json.loads(read(8, length))
    except (struct.error, ValueError):
        return {}
    found = header.get("__metadata__") if isinstance(header, dict) else None
    return dict(found) if isinstance(found, dict) else {}


def _file_metadata(path: Path) -> dict[str, object]:
    with path.open("rb") as file:

        def read(offset: int, length: int) -> bytes:
            file.seek(offset)
            return file.read(length)

        return _header_metadata(read)


def _unwrap(obj: object, path: str | Path) -> dict[str, torch.Tensor]:
    if isinstance(obj, Mapping):
        for key in _WRAPPER_KEYS:
            inner = obj.get(key)
            if isinstance(inner, Mapping) and inner:
                obj = inner
                break
    if not isinstance(obj, Mapping) or not obj:
        raise CheckpointError(
            f"checkpoint {path} holds a {type(obj).__name__}, not a state dict",
            "save weights with torch.save(model.state_dict(), path) or safetensors",
        )
    tensors = {str(k): v for k, v in obj.items() if isinstance(v, torch.Tensor)}
    if not tensors:
        raise CheckpointError(
            f"checkpoint {path} contains no tensors",
            "save weights with torch.save(model.state_dict(), path) or safetensors",
        )
    if all(k.startswith("module.") for k in tensors):
        tensors = {k.removeprefix("module."): v for k, v in tensors.items()}
    return tensors


def read_checkpoint(path: Path) -> Checkpoint:
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist", "check the path")
    if path.suffix == ".safetensors":
        state = _safetensors(lambda: load_file(str(path), device="cpu"), path)
        return Checkpoint(state, _file_metadata(path))
    obj = _torch_load(path, path)
    return Checkpoint(_unwrap(obj, path), _extras(obj))


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    return read_checkpoint(path).state


def decode_checkpoint(
    data: bytes, kind: Literal["safetensors", "pt"], source: str | Path = UPLOAD
) -> Checkpoint:
    """Weights sent as bytes (an HTTP upload), refused or accepted exactly like a file."""
    if kind == "safetensors":
        state = _safetensors(lambda: load(data), source)
        return Checkpoint(state, _header_metadata(lambda at, n: data[at : at + n]))
    obj = _torch_load(io.BytesIO(data), source)
    return Checkpoint(_unwrap(obj, source), _extras(obj))


def _safetensors(
    read: Callable[[], dict[str, torch.Tensor]], source: str | Path
) -> dict[str, torch.Tensor]:
    try:
        return read()
    except (SafetensorError, OSError) as error:
        raise CheckpointError(
            f"checkpoint {source} is not a valid safetensors file: {error}",
            "re-export it with safetensors.torch.save_file",
        ) from None


def _torch_load(file: Path | io.BytesIO, source: str | Path) -> object:
    try:
        return torch.load(file, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        found = re.search(r"GLOBAL ([\w.]+)", str(error))
        if found is None:
            raise _unreadable(source, error) from None
        raise CheckpointError(
            f"checkpoint {source} was refused: it contains pickled Python objects or code "
            f"({found.group(1)}; a full model or custom classes), which Robustar never executes",
            "load it once in your own code and save model.state_dict() with torch.save, "
            "or save it with safetensors",
        ) from None
    except Exception as error:  # torch.load on arbitrary bytes (a text file) raises any kind
        raise _unreadable(source, error) from None


def _unreadable(path: str | Path, error: Exception) -> CheckpointError:
    text = str(error)
    # weights_only refusals put torch's advice (to turn the check off) first and the reason last
    reason = text.partition("WeightsUnpickler error:")[2].strip() or text
    first_line = reason.partition("\n")[0].strip()
    if not first_line or not isinstance(error, _TELLING):
        first_line = (
            f"not a file torch.save wrote ({type(error).__name__} {first_line}".strip() + ")"
        )
    return CheckpointError(
        f"checkpoint {path} is not a readable PyTorch file: {first_line}",
        "give a file written by torch.save(model.state_dict(), path) or a .safetensors file",
    )


def _explain_mismatch(
    model: nn.Module, state: dict[str, torch.Tensor], path: str | Path, num_classes: int
) -> None:
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    shapes = sorted(
        k for k in set(own) & set(state) if tuple(own[k].shape) != tuple(state[k].shape)
    )
    if not (missing or unexpected or shapes):
        return
    problems = []
    for k in shapes:
        theirs, ours = tuple(state[k].shape), tuple(own[k].shape)
        if ours and ours[0] == num_classes and theirs[0] != num_classes:
            problems.append(
                f"{k}: the checkpoint was trained for {theirs[0]} classes, "
                f"the workspace has {num_classes}"
            )
        else:
            problems.append(f"{k}: shape {theirs} in the checkpoint, {ours} in the model")
    if missing:
        problems.append(
            f"{len(missing)} model keys missing from the checkpoint, e.g. {missing[:_SHOWN]}"
        )
    if unexpected:
        problems.append(
            f"{len(unexpected)} checkpoint keys the model lacks, e.g. {unexpected[:_SHOWN]}"
        )
    raise CheckpointError(
        f"checkpoint {path} does not fit the architecture:\n  - " + "\n  - ".join(problems[:8]),
        "check [model] architecture and the class list, or use a checkpoint of that model",
    )


def load_weights(model: nn.Module, path: Path, num_classes: int) -> nn.Module:
    return apply_state_dict(model, read_state_dict(path), path, num_classes)


def apply_state_dict(
    model: nn.Module, state: dict[str, torch.Tensor], path: str | Path, num_classes: int
) -> nn.Module:
    """Load strictly, after explaining any class-count, shape or key difference."""
    _explain_mismatch(model, state, path, num_classes)
    model.load_state_dict(state, strict=True)
    return model


def save_weights(model: nn.Module, path: Path, metadata: dict[str, str] | None = None) -> None:
    """Write atomically: a crash leaves the old file or the new one, never half of one.
    `metadata` goes into the safetensors header (e.g. the input settings it was trained with)."""
    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in model.state_dict().items()}
    atomic_write(path, lambda tmp: save_file(tensors, str(tmp), metadata), durable=True)
