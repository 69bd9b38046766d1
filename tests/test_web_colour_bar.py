"""The web's saliency colour bar (web/src/colourBar.ts) must show the colours the server
draws its maps in; this renders a ramp through the server and reads the web's table."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import numpy as np
from PIL import Image

from robustar import Workspace
from robustar.explain.explainer import SaliencyMap

COLOUR_BAR = Path(__file__).resolve().parents[1] / "web" / "src" / "colourBar.ts"


def web_table(name: str) -> list:
    """A constant array of colourBar.ts, read as JSON."""
    found = re.search(rf"export const {name}\b[^=]*= (\[.*?\]);", COLOUR_BAR.read_text(), re.S)
    assert found, f"{name} is missing from {COLOUR_BAR}"
    return json.loads(re.sub(r",\s*\]", "]", found.group(1)))


def test_the_colour_bar_matches_the_served_heat_map(workspace: Workspace) -> None:
    levels, colours = web_table("INFERNO_LEVELS"), web_table("INFERNO")
    ramp = [(level + 0.5) / 255 for level in levels]
    heat = np.array([ramp + [1.0] * 100], dtype=np.float64)  # the top percentile is 1
    found = SaliencyMap.of(heat, 1, "max_gradient", 0, 1, None)
    png = Image.open(io.BytesIO(workspace.explain.render(found)))
    rgba = np.asarray(png.convert("RGBA"))[0, : len(levels)]
    assert rgba[:, 3].tolist() == levels, "the map's alpha is its level"
    assert rgba[:, :3].tolist() == colours
