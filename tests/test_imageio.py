import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from robustar.data.imageio import ImageDecodeError, Reading, decode_bytes, load_image

LIMIT = Reading(max_pixels=10_000_000)


def encode(image: Image.Image, fmt: str = "PNG", **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **kwargs)
    return buffer.getvalue()


def test_grey_becomes_rgb_with_same_values() -> None:
    grey = Image.fromarray(np.arange(64, dtype=np.uint8).reshape(8, 8), "L")
    out = np.asarray(decode_bytes(encode(grey), LIMIT))
    assert out.shape == (8, 8, 3)
    assert (out[..., 0] == np.arange(64).reshape(8, 8)).all()


def test_16_bit_is_scaled_by_type_range_when_asked() -> None:
    array = np.full((4, 4), 65535, dtype=np.uint16)
    array[0, 0] = 256
    image = Image.fromarray(array)
    assert image.mode.startswith("I;16")
    out = np.asarray(decode_bytes(encode(image), Reading(intensity="range")))
    assert out[1, 1].tolist() == [255, 255, 255]
    assert out[0, 0].tolist() == [1, 1, 1]


def test_rgba_is_composited_on_black() -> None:
    rgba = np.zeros((2, 2, 4), dtype=np.uint8)
    rgba[..., 0] = 200
    rgba[0, 0, 3] = 255
    out = np.asarray(decode_bytes(encode(Image.fromarray(rgba, "RGBA")), LIMIT))
    assert out[0, 0].tolist() == [200, 0, 0]
    assert out[1, 1].tolist() == [0, 0, 0]


def test_palette_with_transparency() -> None:
    image = Image.new("P", (3, 3), 1)
    image.putpalette([0, 0, 0, 10, 200, 30] + [0] * 762)
    image.info["transparency"] = 0
    out = np.asarray(decode_bytes(encode(image, transparency=0), LIMIT))
    assert out[1, 1].tolist() == [10, 200, 30]


def test_exif_rotation_is_applied() -> None:
    array = np.zeros((10, 20, 3), dtype=np.uint8)
    array[:, :10] = 255  # left half white
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    data = encode(Image.fromarray(array), "JPEG", exif=exif, quality=95)
    out = np.asarray(decode_bytes(data, LIMIT))
    assert out.shape[:2] == (20, 10)
    assert out[:8].mean() > 200 and out[12:].mean() < 50  # white ends up on top


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"hello, not an image", "not a readable image"),
        (encode(Image.new("RGB", (64, 64), "red"))[:80], "corrupt or truncated"),
    ],
)
def test_bad_bytes_are_refused(data: bytes, message: str) -> None:
    with pytest.raises(ImageDecodeError, match=message):
        decode_bytes(data, LIMIT)


def test_decompression_bomb_is_refused() -> None:
    data = encode(Image.new("L", (200, 200)))
    with pytest.raises(ImageDecodeError, match="decompression bomb"):
        decode_bytes(data, Reading(max_pixels=10_000))
    assert decode_bytes(data, Reading(max_pixels=40_000)).size == (200, 200)


def test_load_image_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    Image.new("RGB", (5, 7), "blue").save(path)
    assert load_image(path, LIMIT).size == (5, 7)


def test_unknown_formats_are_named_without_the_file_object() -> None:
    with pytest.raises(ImageDecodeError) as caught:
        decode_bytes(b"hello, not an image", LIMIT)
    assert "object at 0x" not in str(caught.value)
    assert str(caught.value) == "not a readable image: the format is not one Pillow recognises"
