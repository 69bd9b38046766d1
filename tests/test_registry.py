"""Registries: names, errors that list them, and one publication (GET /methods, CLI, schema)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient
from pydantic import Field
from typer.main import get_command

from robustar import Workspace
from robustar.annotations.segmenters import SEGMENTERS
from robustar.cli.common import app
from robustar.errors import DataError
from robustar.explain.attribution import ATTRIBUTION
from robustar.explain.saliency import SALIENCY, saliency
from robustar.registry import Registry
from robustar.server.app import create_app
from robustar.train.fillers import FILLERS
from robustar.train.options import TrainOptions, parse_options
from robustar.train.paired import REGULARIZERS
from tests.test_cli import run

FAMILIES = {
    "saliency": SALIENCY,
    "attribution": ATTRIBUTION,
    "filler": FILLERS,
    "regularizer": REGULARIZERS,
    "segmenter": SEGMENTERS,
}


def test_an_unknown_name_is_refused_with_the_registered_names() -> None:
    with pytest.raises(DataError) as error:
        SALIENCY.get("nope")
    assert "unknown saliency method 'nope'" in error.value.what
    assert error.value.fix is not None and "gradcam" in error.value.fix
    with pytest.raises(DataError, match="unknown attribution method"):
        ATTRIBUTION.entry("influence-typo")


def test_a_name_is_registered_once_and_needs_a_description() -> None:
    registry: Registry = Registry("thing")
    registry.register("a", "the a")(len)
    with pytest.raises(ValueError, match="already registered"):
        registry.register("a", "again")(len)
    with pytest.raises(ValueError, match="description"):
        registry.register("b")(lambda: None)


def test_options_are_the_keyword_only_parameters() -> None:
    smoothgrad = next(m for m in SALIENCY.describe() if m.name == "smoothgrad")
    samples = next(o for o in smoothgrad.options if o.name == "samples")
    assert (samples.type, samples.default) == ("integer", 16)
    assert [o.name for o in smoothgrad.options] == ["samples", "seed"]
    trak = ATTRIBUTION.entry("trak").info()
    assert [o.name for o in trak.options] == ["dim", "damping", "ensemble"]
    sam = SEGMENTERS.entry("sam").info()
    assert next(o for o in sam.options if o.name == "model_type").choices == [
        "vit_b",
        "vit_l",
        "vit_h",
    ]


def test_every_registered_method_is_published(workspace: Workspace) -> None:
    published = TestClient(create_app(workspace)).get("/api/v1/methods").json()
    for family, registry in FAMILIES.items():
        methods = published[family]["methods"]
        assert [m["name"] for m in methods] == registry.names()
        assert all(m["description"] for m in methods)
    assert published["saliency"]["default"] == "max_gradient"
    assert published["filler"]["default"] == TrainOptions().filler
    assert next(m for m in published["attribution"]["methods"] if m["name"] == "influence-cg")[
        "meta"
    ] == {"ranks": False}
    schema = published["train_options"]["properties"]
    assert list(schema) == list(TrainOptions.model_fields)
    assert schema["filler"]["enum"] == FILLERS.names()


@pytest.fixture
def throwaway() -> Iterator[None]:
    """A saliency method and a filler added by decorator, removed afterwards."""

    @SALIENCY.register("throwaway_map")
    def throwaway_map(
        model: torch.nn.Module,
        x: torch.Tensor,
        target: int,
        *,
        scale: Annotated[float, Field(gt=0, description="multiplies the map")] = 2.0,
    ) -> np.ndarray:
        """Every pixel equally salient."""
        return np.full(x.shape[-2:], scale, dtype=np.float32)

    @FILLERS.register("throwaway_fill")
    def throwaway_fill(x, m, px, g):  # type: ignore[no-untyped-def]
        """Zeros."""
        return torch.where(m > 0.5, torch.zeros_like(x), x)

    yield
    SALIENCY.unregister("throwaway_map")
    FILLERS.unregister("throwaway_fill")


def test_a_method_added_by_decorator_is_offered_everywhere(
    throwaway: None, workspace: Workspace, monkeypatch, capsys
) -> None:
    published = TestClient(create_app(workspace)).get("/api/v1/methods").json()
    added = next(m for m in published["saliency"]["methods"] if m["name"] == "throwaway_map")
    assert added["description"] == "Every pixel equally salient."
    assert added["options"] == [
        {
            "name": "scale",
            "type": "number",
            "default": 2.0,
            "choices": None,
            "description": "multiplies the map",
        }
    ]
    assert "throwaway_fill" in published["train_options"]["properties"]["filler"]["enum"]
    # the CLI's choices and the options' validation follow
    monkeypatch.setenv("COLUMNS", "1000")  # one line per option, names unbroken
    code, out, _ = run(monkeypatch, capsys, "explain", "--help")
    assert code == 0 and "throwaway_map" in out
    code, out, _ = run(monkeypatch, capsys, "train", "--help")
    assert code == 0 and "throwaway_fill" in out
    assert parse_options({"filler": "throwaway_fill"}).filler == "throwaway_fill"
    # and it runs, with its options
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 2))
    heat = saliency(model, torch.zeros(1, 3, 2, 2), "throwaway_map", 1, scale=3.0, layer=None)
    assert heat.shape == (2, 2) and float(heat[0, 0]) == 3.0


def test_an_unregistered_filler_is_refused_by_the_options() -> None:
    with pytest.raises(Exception, match="unknown filler 'glitter'; use one of uniform"):
        parse_options({"filler": "glitter"})


def test_every_training_option_has_a_flag_with_its_default() -> None:
    """The flags are derived from TrainOptions' fields, so none can be missing or differ."""
    stand_in = get_command(app).commands["train"]  # type: ignore[attr-defined]
    params = {p.name: p for p in stand_in.build().params}
    for name, field in TrainOptions.model_fields.items():
        assert name in params, f"no flag for {name}"
        assert params[name].default == field.default, name
    assert "--lr" in params["learning_rate"].opts
    assert params["paired"].secondary_opts == ["--no-paired"]


def test_derived_flags_reach_the_options(workspace: Workspace, monkeypatch, capsys) -> None:
    args = ("train", workspace.root, "--queue", "--lr", "0.05", "--worst-of", "3")
    code, out, _ = run(monkeypatch, capsys, *args, "--no-evaluate-test", "--momentum", "0.5")
    assert code == 0 and "queued training" in out
    options = workspace.jobs.list()[0].params["options"]
    assert options["learning_rate"] == 0.05 and options["worst_of"] == 3
    assert options["evaluate_test"] is False and options["momentum"] == 0.5
    code, _, err = run(monkeypatch, capsys, "train", workspace.root, "--momentum", "1.5")
    assert code == 2 and "momentum" in err
