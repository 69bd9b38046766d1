from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from robustar.data.labelmaps import (
    IGNORE_COLOUR,
    LabelClasses,
    pair_folder,
    read_label_map,
    read_pair,
    voc_colour,
    write_label_map,
)
from robustar.errors import DataError

CLASSES = LabelClasses.of(["background", "cell", "nucleus"])
MAP = np.array([[0, 1, 1, 0], [2, 2, 255, 0], [0, 0, 1, 2]], dtype=np.uint8)


def test_voc_palette_colours() -> None:
    assert [voc_colour(i) for i in range(4)] == [(0, 0, 0), (128, 0, 0), (0, 128, 0), (128, 128, 0)]
    assert voc_colour(15) == (192, 128, 128)  # VOC's "person"


@pytest.mark.parametrize("palette", [True, False])
def test_round_trip_keeps_indices_and_ignore(tmp_path: Path, palette: bool) -> None:
    path = tmp_path / "m.png"
    write_label_map(path, MAP, CLASSES, palette=palette)
    assert Image.open(path).mode == ("P" if palette else "L")
    assert np.array_equal(read_label_map(path, CLASSES), MAP)


def test_palette_png_is_read_by_colour_not_by_palette_slot(tmp_path: Path) -> None:
    # another tool's palette: the classes' colours in other slots
    slots = [(9, 9, 9), CLASSES.colours[2], CLASSES.colours[0], IGNORE_COLOUR, CLASSES.colours[1]]
    image = Image.fromarray(np.array([[1, 2], [3, 4]], dtype=np.uint8))
    image.putpalette([c for colour in slots for c in colour])
    image.save(tmp_path / "m.png")
    got = read_label_map(tmp_path / "m.png", CLASSES)
    assert got.tolist() == [[2, 0], [255, 1]]


def test_palette_colour_outside_the_classes_is_named(tmp_path: Path) -> None:
    image = Image.fromarray(np.array([[0, 1]], dtype=np.uint8))
    image.putpalette([0, 0, 0, 10, 200, 30])
    image.save(tmp_path / "m.png")
    with pytest.raises(DataError, match="#0ac81e") as error:
        read_label_map(tmp_path / "m.png", CLASSES)
    assert "cell #800000" in (error.value.fix or "")


def test_index_outside_the_class_list(tmp_path: Path) -> None:
    Image.fromarray(np.array([[0, 3, 7], [255, 1, 2]], dtype=np.uint8)).save(tmp_path / "m.png")
    with pytest.raises(DataError, match=r"indices \[3, 7\].*3 classes"):
        read_label_map(tmp_path / "m.png", CLASSES)
    with pytest.raises(DataError, match=r"indices \[3\]"):
        write_label_map(tmp_path / "w.png", np.array([[3]]), CLASSES)
    assert not (tmp_path / "w.png").exists()


def test_a_bilevel_mask_reads_as_classes_0_and_1(tmp_path: Path) -> None:
    Image.fromarray(np.array([[0, 1], [1, 0]], dtype=bool)).save(tmp_path / "m.png")
    assert Image.open(tmp_path / "m.png").mode == "1"
    assert read_label_map(tmp_path / "m.png", CLASSES).tolist() == [[0, 1], [1, 0]]


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "I;16", "F"])
def test_wrong_mode(tmp_path: Path, mode: str) -> None:
    Image.new(mode, (4, 3)).save(tmp_path / "m.tiff" if mode == "F" else tmp_path / "m.png")
    path = tmp_path / ("m.tiff" if mode == "F" else "m.png")
    with pytest.raises(DataError, match=f"is a {mode} image") as error:
        read_label_map(path, CLASSES)
    assert "mode L" in error.value.what and "greyscale" in (error.value.fix or "")


def test_wrong_size_against_its_image(tmp_path: Path) -> None:
    root = _pairs(tmp_path, ["a"])
    Image.fromarray(np.zeros((5, 4), np.uint8)).save(root / "labels" / "a.png")
    with pytest.raises(DataError, match="is 4x5 but its image is 4x3") as error:
        read_pair(pair_folder(root)[0], CLASSES)
    assert "nearest-neighbour" in (error.value.fix or "")


def test_size_is_the_upright_one(tmp_path: Path) -> None:
    root = _pairs(tmp_path, ["a"])
    image = Image.new("RGB", (3, 4))  # stored 3x4, turned a quarter by EXIF: 4x3 upright
    exif = image.getexif()
    exif[0x0112] = 6
    image.save(root / "images" / "a.jpg", exif=exif)
    (root / "images" / "a.png").unlink()
    assert read_pair(pair_folder(root)[0], CLASSES).shape == (3, 4)


def test_pairs_by_stem_and_missing_pairs(tmp_path: Path) -> None:
    root = _pairs(tmp_path, ["a", "b"])
    pairs = pair_folder(root)
    assert [(p.image.name, p.label.name) for p in pairs] == [("a.png", "a.png"), ("b.png", "b.png")]
    (root / "labels" / "b.png").unlink()
    Image.fromarray(MAP).save(root / "labels" / "c.png")
    with pytest.raises(DataError, match=r"without a label map: \['b'\].*without an image: \['c'\]"):
        pair_folder(root)
    assert [p.image.stem for p in pair_folder(root, require_labels=False)] == ["a"]
    with pytest.raises(DataError, match="no images/ folder"):
        pair_folder(tmp_path / "nowhere")


def test_classes_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "classes.txt"
    path.write_text("# name colour\nbackground #000000\nred cell #ff0000\n\nnucleus #00ff00\n")
    read = LabelClasses.read(path)
    assert read.names == ("background", "red cell", "nucleus")
    assert read.colours[1] == (255, 0, 0)
    path.write_text("background\ncell\n")
    assert LabelClasses.read(path).colours == (voc_colour(0), voc_colour(1))
    path.write_text("background #000000\ncell\n")
    with pytest.raises(DataError, match="1 of 2 classes have a colour"):
        LabelClasses.read(path)


@pytest.mark.parametrize(
    ("names", "colours", "ignore", "message"),
    [
        (["bg"], None, 255, "at least 2 classes"),
        (["bg", "bg"], None, 255, "twice"),
        (["bg", "a"], ["#000000", "#000000"], 255, "share a colour"),
        (["bg", "a"], ["#000000"], 255, "1 colours for 2"),
        (["bg", "a"], ["#000000", "red"], 255, "not #rrggbb"),
        (["bg", "a", "b"], None, 1, "ignore index 1"),
    ],
)
def test_bad_class_lists(
    names: list[str], colours: list[str] | None, ignore: int, message: str
) -> None:
    with pytest.raises(DataError, match=message):
        LabelClasses.of(names, colours, ignore)


def _pairs(root: Path, stems: list[str]) -> Path:
    (root / "images").mkdir(parents=True)
    (root / "labels").mkdir()
    for stem in stems:
        Image.new("RGB", (4, 3)).save(root / "images" / f"{stem}.png")
        Image.fromarray(MAP).save(root / "labels" / f"{stem}.png")
    return root


def test_a_bad_index_anywhere_in_a_large_map_is_found(tmp_path: Path) -> None:
    labels = np.zeros((300, 300), np.uint8)  # more pixels than one chunk of the check
    labels[::7] = 255
    write_label_map(tmp_path / "ok.png", labels, CLASSES)
    labels[-1, -1] = 7
    with pytest.raises(DataError, match=r"indices \[7\]"):
        write_label_map(tmp_path / "bad.png", labels, CLASSES)
    with pytest.raises(DataError, match=r"indices \[-1\]"):
        write_label_map(tmp_path / "bad.png", np.full((2, 2), -1), CLASSES)
