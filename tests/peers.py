"""The peers' own parsers, for checking exports: pycocotools runs in the main environment;
label-studio-sdk (it pins an older numpy) and fiftyone (hundreds of dependencies) cannot, so
they share a separate virtual environment, made on first use under .venv-peers/ (`make peers`
makes it ahead) and kept."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv-peers"
PYTHON = VENV / "bin" / "python"
# Each peer: what pip installs, and what must then import (FiftyOne: its COCO importer, which
# runs without FiftyOne's MongoDB service, and pycocotools, which it imports only for masks).
PEERS = {
    "label-studio-sdk": (["label-studio-sdk"], "import label_studio_sdk.converter.brush"),
    "fiftyone": (["fiftyone", "pycocotools"], "import fiftyone.utils.coco, pycocotools.mask"),
}


def peer_python(package: str) -> Path:
    """A Python with `package` (a key of PEERS); the test is skipped, with pip's reason, only
    when pip cannot install it, or when it installs but its import wants a database."""
    requirements, probe = PEERS[package]
    if PYTHON.exists() and not _fails(probe):
        return PYTHON
    steps = [[str(PYTHON), "-m", "pip", "install", "--quiet", *requirements]]
    if not PYTHON.exists():
        steps.insert(0, [sys.executable, "-m", "venv", str(VENV)])
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            reason = done.stderr.strip()[-500:]
            pytest.skip(f"cannot install {package} ({' '.join(step[2:])}): {reason}")
    error = _fails(probe)
    if "mongo" in error.lower() or "database" in error.lower():
        pytest.skip(f"{package} installed but its import needs a database: {error[-500:]}")
    assert not error, f"{package} installed but does not import: {error[-500:]}"
    return PYTHON


def _fails(code: str) -> str:
    """The error output of running `code` in the peers' Python, empty when it ran."""
    done = subprocess.run([str(PYTHON), "-c", code], capture_output=True, text=True)
    return "" if done.returncode == 0 else done.stderr.strip() or f"exit {done.returncode}"


def run_peer(python: Path, script: str, payload: Any) -> Any:
    """Run `script` in the peer's Python; it reads JSON on stdin and prints JSON."""
    done = subprocess.run(
        [str(python), "-c", script],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)
