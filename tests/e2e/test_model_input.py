"""The Models page says when imported weights declare other input settings than [image]."""

from __future__ import annotations

from pathlib import Path

import torch
from playwright.sync_api import Page, expect

from robustar import Workspace
from robustar.models.registry import create_model


def test_imported_weights_with_other_settings_are_flagged(
    demo: Workspace, page: Page, shoot, tmp_path: Path
) -> None:
    state = create_model("tiny_cnn", len(demo.classes)).state_dict()
    torch.save({"state_dict": state, "mean": [0.1] * 3, "std": [0.5] * 3}, tmp_path / "w.pt")
    flagged = demo.import_model(tmp_path / "w.pt", architecture="tiny_cnn")
    page.goto("/models")
    row = page.locator(f"[data-input-warnings='{flagged.id}']")
    expect(row).to_contain_text("the model expects mean 0.1,0.1,0.1")
    expect(row).to_contain_text("--mean 0.1,0.1,0.1 --std 0.5,0.5,0.5")
    expect(page.locator("[data-input-warnings]")).to_have_count(1)  # the trained v1 is not
    shoot(page, "models-input-warning")
