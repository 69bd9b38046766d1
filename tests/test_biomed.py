"""16-bit and multi-channel TIFF, DICOM: channels, intensity policy, clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from robustar.config import ImageConfig, parse_config
from robustar.data.imageio import ImageDecodeError, Reading, decode_bytes, load_image
from robustar.errors import ConfigError
from tests.biomed_files import dicom16, tiff16


def pixels(path: Path, reading: Reading = Reading(), display: bool = False) -> np.ndarray:
    return np.asarray(load_image(path, reading, display=display))


def test_16_bit_tiff_is_stretched_by_percentiles(tmp_path: Path) -> None:
    ramp = np.linspace(1000, 5000, 64 * 64).reshape(64, 64).astype(np.uint16)  # 12-bit data
    path = tiff16(tmp_path / "a.tif", ramp)
    out = pixels(path)
    assert out.shape == (64, 64, 3) and out.dtype == np.uint8
    assert (out[..., 0] == out[..., 2]).all()  # grey repeated
    assert out.min() == 0 and out.max() == 255  # 1st and 99.5th percentile reach the ends
    assert (np.diff(out[..., 0].ravel().astype(int)) >= 0).all()  # order kept
    by_range = pixels(path, Reading(intensity="range"))
    assert by_range.max() == round(5000 / 65535 * 255)  # the type's range: dark
    window = pixels(path, Reading(intensity="window", window=(1000.0, 2000.0)))
    assert window[0, 0, 0] == 0 and window[-1, -1, 0] == 255
    assert window[ramp >= 2000].min() == 255


def test_four_channel_tiff_maps_the_chosen_channels(tmp_path: Path) -> None:
    planes = np.stack([np.full((8, 10), 100 * (k + 1), np.uint16) for k in range(4)])
    path = tiff16(tmp_path / "cells.tif", planes, axes="CYX")
    reading = Reading(channels=(2, 0, 1), intensity="window", window=(0.0, 510.0))
    out = pixels(path, reading)
    assert out.shape == (8, 10, 3)
    assert out[0, 0].tolist() == [150, 50, 100]  # channels 2, 0, 1 = 300, 100, 200 of 510
    grey = pixels(path, Reading(**{**reading.__dict__, "display_channels": (3,)}), True)
    assert grey.shape == (8, 10) and grey[0, 0] == 200  # channel 3 (400) alone, as grey
    with pytest.raises(ImageDecodeError, match=r"cells.tif has 4 channels.*\[image\] channels"):
        pixels(path)  # four channels and no mapping


def test_channel_out_of_range_names_the_file_and_the_fix(tmp_path: Path) -> None:
    path = tiff16(tmp_path / "two.tif", np.zeros((2, 5, 5), np.uint16), axes="CYX")
    with pytest.raises(ImageDecodeError) as caught:
        pixels(path, Reading(channels=(0, 1, 5)))
    message = str(caught.value)
    assert "two.tif has 2 channels" in message and "channel 5" in message
    assert "fix:" in message and "robustar.toml" in message


def test_dicom_rescale_and_window_are_honoured(tmp_path: Path) -> None:
    stored = np.array([[420, 520, 620, 0]], np.uint16)  # x2 - 1000: -160, 40, 240, -1000 HU
    path = dicom16(tmp_path / "ct.dcm", stored, slope=2, intercept=-1000, window=(40, 400))
    out = pixels(path)[0, :, 0]
    assert out.tolist() == [0, 128, 255, 0]  # window [-160, 239] in HU
    inverted = dicom16(tmp_path / "x.dcm", stored, 2, -1000, (40, 400), "MONOCHROME1")
    assert pixels(inverted)[0, :, 0].tolist() == [255, 127, 0, 255]
    own = pixels(path, Reading(dicom_window=False, intensity="window", window=(-1000.0, 240.0)))
    assert own[0, :, 0].tolist() == [173, 214, 255, 0]  # the rescaled values, our window


def test_corrupt_files_are_refused_clearly(tmp_path: Path) -> None:
    good = tiff16(tmp_path / "a.tif", np.ones((64, 64), np.uint16)).read_bytes()
    with pytest.raises(ImageDecodeError, match="TIFF"):
        decode_bytes(good[:300], Reading(), "a.tif")
    ct = dicom16(tmp_path / "b.dcm", np.ones((32, 32), np.uint16)).read_bytes()
    with pytest.raises(ImageDecodeError, match="DICOM"):
        decode_bytes(ct[:-100], Reading(), "b.dcm")
    stack = tiff16(tmp_path / "z.tif", np.zeros((3, 4, 4), np.uint16), axes="ZYX")
    with pytest.raises(ImageDecodeError, match="stack of planes"):
        pixels(stack)


def test_config_checks_channels_against_the_model_input() -> None:
    assert ImageConfig(channels=[2, 0, 1]).channels == [2, 0, 1]
    with pytest.raises(ConfigError, match=r"\[image\].*'channels' lists 2.*model takes 3"):
        parse_config({"data": {"train": "t"}, "image": {"channels": [0, 1]}}, Path("x.toml"))
    with pytest.raises(ConfigError, match="needs 'window"):
        parse_config({"data": {"train": "t"}, "image": {"intensity": "window"}}, Path("x.toml"))
