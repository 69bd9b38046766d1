"""The peers' own parsers, for checking exports: pycocotools runs in the main environment;
label-studio-sdk cannot (it pins an older numpy), so it gets a separate virtual environment,
made on first use under .venv-peers/ (`make peers` makes it ahead) and kept."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
PEERS = ROOT / ".venv-peers"
PYTHON = PEERS / "bin" / "python"
PROBE = "import label_studio_sdk.converter.brush"


def label_studio_python() -> Path:
    """A Python with label-studio-sdk; the test is skipped, with pip's reason, only when pip
    cannot install it."""
    if PYTHON.exists() and _runs(PROBE):
        return PYTHON
    steps = [
        [sys.executable, "-m", "venv", str(PEERS)],
        [str(PYTHON), "-m", "pip", "install", "--quiet", "label-studio-sdk"],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            pytest.skip(
                f"cannot install label-studio-sdk ({' '.join(step[-2:])}): "
                f"{done.stderr.strip()[-500:]}"
            )
    assert _runs(PROBE), "label-studio-sdk installed but does not import"
    return PYTHON


def _runs(code: str) -> bool:
    return subprocess.run([str(PYTHON), "-c", code], capture_output=True).returncode == 0


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
