from pathlib import Path

import pytest

from robustar.config import load_config, write_config
from robustar.errors import ConfigError

from .conftest import folder_config


def test_round_trip(tmp_path: Path) -> None:
    config = folder_config(tmp_path / "train", test="t")
    write_config(tmp_path, config)
    assert load_config(tmp_path) == config


def test_missing_file_says_how_to_create_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    assert "not a Robustar workspace" in caught.value.what
    assert "robustar init" in caught.value.fix


def test_malformed_toml_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "robustar.toml").write_text("[data\ntrain = 'x'")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(tmp_path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[data]\ntrain='x'\n[image]\nsize='big'", "[image] size"),
        ("[data]\ntrain='x'\n[image]\nsise=32", "[image] sise: unknown field"),
        ("[image]\nsize=32", "[data]: required field is missing"),
        ("[data]\ntrain='x'\n[runtime]\ndevice='tpu'", "[runtime] device"),
        ("[data]\ntrain='x'\n[image]\nstd=[0.2, 0.0, 0.2]", "[image] std"),
        ("[data]\ntrain='x'\nclasses=['a','b']\nclass_file='c.txt'", "either 'classes'"),
    ],
)
def test_invalid_fields_are_named(tmp_path: Path, text: str, expected: str) -> None:
    (tmp_path / "robustar.toml").write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    assert expected in str(caught.value)
    assert caught.value.fix
