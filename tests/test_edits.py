"""Attribute edits on synthetic images: geometry, determinism, skips, option ranges."""

from __future__ import annotations

import numpy as np
import pytest

from robustar.discover.edits import EDITS, EditSkipped, EditSpec, apply
from robustar.discover.edits.background import complexity, tilt_amplitude
from robustar.discover.edits.geometry import RATE_TOLERANCE, rate
from robustar.errors import DataError


def scene(size: int = 64, side: int = 20, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A textured background with an off-centre red square-ish object (a disc cut)."""
    rng = np.random.default_rng(seed)
    image = rng.integers(60, 120, size=(size, size, 3)).astype(np.uint8)
    yy, xx = np.mgrid[0:size, 0:size]
    mask = (np.abs(yy - 28) < side // 2) & (np.abs(xx - 30) < side // 2 + 3)
    image[mask] = (220, 40, 40)
    return image, mask


@pytest.mark.parametrize("target", [0.1, 0.08, 0.05, 0.3])
def test_size_reaches_the_rate_within_tolerance(target: float) -> None:
    image, mask = scene()
    edited = apply(EditSpec("size", {"rate": target}), image, mask)
    assert abs(rate(edited.mask) - target) <= RATE_TOLERANCE
    # the object's colour moved with its mask
    assert edited.image[edited.mask][:, 0].mean() > 150


def test_full_size_fills_the_limiting_axis() -> None:
    image, mask = scene()
    edited = apply(EditSpec("size", {"rate": "full"}), image, mask)
    xs = np.nonzero(edited.mask)[1]
    assert xs.max() - xs.min() + 1 >= 62  # the wider side spans the image


def test_unreachable_size_is_skipped() -> None:
    image = np.zeros((64, 64, 3), np.uint8)
    mask = np.zeros((64, 64), bool)
    mask[0, 0] = True  # one pixel: scaling about it cannot give 0.3 of the image in place
    mask[63, 63] = True
    with pytest.raises(EditSkipped) as caught:
        apply(EditSpec("size", {"rate": 0.3}), image, mask)
    assert caught.value.reason == "size not reached"


@pytest.mark.parametrize("angle", [-170, -90, -30, 10, 45, 90, 180])
def test_rotation_keeps_the_mask_area(angle: float) -> None:
    image, mask = scene()
    edited = apply(EditSpec("rotation", {"angle": angle}), image, mask)
    assert abs(edited.mask.sum() / mask.sum() - 1) <= 0.02


def test_rotation_by_90_turns_the_mask() -> None:
    image, mask = scene()
    edited = apply(EditSpec("rotation", {"angle": 90}), image, mask)
    ys, xs = np.nonzero(edited.mask)
    height, width = np.ptp(ys) + 1, np.ptp(xs) + 1
    assert (height, width) == (np.ptp(np.nonzero(mask)[1]) + 1, np.ptp(np.nonzero(mask)[0]) + 1)


@pytest.mark.parametrize("blend", ["paste", "feather", "poisson"])
def test_identity_keeps_pixels_outside_the_mask(blend: str) -> None:
    image, mask = scene()
    edited = apply(EditSpec("identity", {"blend": blend}), image, mask)
    grown = np.zeros_like(mask)
    ys, xs = np.nonzero(mask)
    grown[ys.min() - 4 : ys.max() + 5, xs.min() - 4 : xs.max() + 5] = True
    outside = ~grown
    difference = np.abs(edited.image.astype(int) - image.astype(int))[outside]
    assert difference.max() == 0  # beyond the in-painted rim nothing changes
    if blend != "poisson":  # Poisson keeps gradients, not the flat object's colour
        inside = np.abs(edited.image.astype(int) - image.astype(int))[mask]
        assert inside.mean() < 25  # the object comes back


def test_position_moves_a_small_object_deterministically() -> None:
    image, mask = scene()
    first = apply(EditSpec("position"), image, mask, seed=3, image_key=7)
    again = apply(EditSpec("position"), image, mask, seed=3, image_key=7)
    other = apply(EditSpec("position"), image, mask, seed=4, image_key=7)
    assert np.array_equal(first.image, again.image)
    assert not np.array_equal(first.mask, other.mask)
    assert abs(rate(first.mask) - 0.05) <= RATE_TOLERANCE


def test_remove_leaves_no_object() -> None:
    image, mask = scene()
    edited = apply(EditSpec("remove"), image, mask)
    assert not edited.mask.any()
    assert edited.image[mask][:, 0].mean() < 150  # the red is gone


@pytest.mark.parametrize("source", ["image", "colour", "noise", "gabor", "stripes", "checks"])
def test_background_replacement_keeps_the_object(source: str) -> None:
    image, mask = scene()
    donor = np.full_like(image, 200)
    edited = apply(
        EditSpec("background", {"source": source, "blend": "paste"}),
        image,
        mask,
        donor=lambda rng: donor,
    )
    assert np.array_equal(edited.image[mask], image[mask])
    assert not np.array_equal(edited.image[~mask], image[~mask])
    if source == "image":
        assert (edited.image[~mask] == 200).all()


def test_complexity_axis_is_measured() -> None:
    image, mask = scene()
    values = [
        complexity(apply(EditSpec("complexity", {"strength": s}), image, mask).image, mask)
        for s in (-30, -10, 0, 10, 30)
    ]
    assert values == sorted(values)
    assert np.array_equal(tilt_amplitude(image, 0), image)


@pytest.mark.parametrize("kind", ["empty", "full"])
def test_empty_and_full_masks_are_skipped(kind: str) -> None:
    image, _ = scene()
    mask = np.zeros((64, 64), bool) if kind == "empty" else np.ones((64, 64), bool)
    with pytest.raises(EditSkipped) as caught:
        apply(EditSpec("identity"), image, mask)
    assert caught.value.reason == f"{kind} mask"


@pytest.mark.parametrize(
    ("edit", "options"),
    [("size", {"rate": 0.9}), ("rotation", {"angle": 200}), ("complexity", {"strength": -31})],
)
def test_out_of_range_options_name_the_range(edit: str, options: dict[str, object]) -> None:
    with pytest.raises(DataError) as caught:
        EditSpec(edit, options)
    assert "less than or equal" in str(caught.value) or "greater than" in str(caught.value)


def test_every_edit_is_registered_with_a_description() -> None:
    names = set(EDITS.names())
    assert {
        "identity",
        "remove",
        "complexity",
        "background",
        "size",
        "position",
        "rotation",
    } <= names
    assert EditSpec("size", {"rate": 0.05}).label == "size(rate=0.05)"


def test_background_swap_keeps_objects_and_replaces_backgrounds() -> None:
    import torch

    from robustar.train.background import swap_backgrounds

    images = torch.randn(6, 3, 16, 16)
    objects = torch.zeros(6, 1, 16, 16)
    objects[:, :, 4:10, 4:10] = 1
    objects[5] = 0  # no object: kept as it is
    out = swap_backgrounds(images, objects, 1.0, torch.Generator().manual_seed(0))
    inside = objects.bool().expand_as(images)
    assert torch.equal(out[inside], images[inside])
    assert not torch.equal(out[:5][~inside[:5]], images[:5][~inside[:5]])
    assert torch.equal(out[5], images[5])
    assert torch.equal(swap_backgrounds(images, objects, 0.0, torch.Generator()), images)


def test_ten_crop_averages_crops_and_their_mirrors() -> None:
    import torch
    from torch import nn

    from robustar.discover.edits.classify import ten_crop

    torch.manual_seed(0)
    network = nn.Sequential(nn.Flatten(), nn.Linear(3 * 16 * 16, 4))
    flat = torch.full((2, 3, 16, 16), 0.3)  # every crop of a constant image is the image
    assert torch.allclose(ten_crop(network, flat), torch.softmax(network(flat), 1), atol=1e-6)
    # a bright left edge: the mirrored crops see it on the right, so the average differs
    edge = torch.zeros(1, 3, 16, 16)
    edge[..., :3] = 1
    averaged = ten_crop(network, edge)
    assert averaged.shape == (1, 4) and float(averaged.sum()) == pytest.approx(1, abs=1e-5)
    assert not torch.allclose(averaged, torch.softmax(network(edge), 1), atol=1e-3)


def test_background_swap_never_pastes_another_object() -> None:
    import torch

    from robustar.train.background import swap_backgrounds

    images = torch.randn(16, 3, 24, 24) * 0.1
    objects = torch.zeros(16, 1, 24, 24)
    for i in range(16):  # each object somewhere else, far brighter than any background
        objects[i, :, i : i + 6, 2 * (i % 8) : 2 * (i % 8) + 6] = 1
    images = torch.where(objects.bool(), torch.full_like(images, 50.0), images)
    generator = torch.Generator().manual_seed(0)
    first = swap_backgrounds(images, objects, 1.0, generator)
    outside = ~objects.bool().expand_as(images)
    assert first[outside].abs().max() < 10  # others' objects were blanked, not pasted
    again = swap_backgrounds(images, objects, 1.0, generator)
    assert not torch.equal(first, again)  # a fresh background each time an image is drawn
