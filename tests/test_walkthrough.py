"""docs/python-walkthrough.md runs, cell by cell, on a small trained demo workspace."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

WALKTHROUGH = Path(__file__).resolve().parents[1] / "docs" / "python-walkthrough.md"


def cells() -> list[str]:
    return re.findall(r"```python\n(.*?)```", WALKTHROUGH.read_text(), re.S)


def test_the_walkthrough_runs_end_to_end(
    tmp_path: Path,
    _trained_demo_template: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    shutil.copytree(_trained_demo_template, tmp_path / "demo-workspace")
    monkeypatch.chdir(tmp_path)
    found = cells()
    assert len(found) >= 8
    namespace: dict[str, object] = {}
    try:
        for number, cell in enumerate(found, 1):
            exec(compile(cell, f"{WALKTHROUGH.name} cell {number}", "exec"), namespace)
    finally:
        ws = namespace.get("ws")
        if ws is not None:
            ws.close()  # type: ignore[attr-defined]
    assert namespace["written"] == 1 and len(list((tmp_path / "exported-masks").rglob("*.png")))
    printed = capsys.readouterr().out
    assert "View('test').wrong().sort_by('loss', reverse=True)" in printed
    assert "fix: build it: ws.attribution.build('tracin')" in printed
