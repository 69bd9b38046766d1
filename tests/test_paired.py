import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from robustar import Workspace
from robustar.train.fillers import FILLERS, Pixels
from robustar.train.paired import REGULARIZERS, PairedLoss


def batch(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(6, 3, 16, 16, generator=g)
    m = torch.zeros(6, 1, 16, 16)
    m[:, :, 2:9, 4:12] = 1
    m[3] = 0  # an image without a mask
    return x, m


@pytest.mark.parametrize("name", sorted(FILLERS))
def test_every_filler_changes_only_masked_pixels(name: str) -> None:
    x, m = batch()
    pixels = Pixels([0.5, 0.5, 0.5], [0.25, 0.25, 0.25], torch.device("cpu"))
    generator = torch.Generator().manual_seed(1)
    score = lambda c: c.flatten(1).sum(1)  # noqa: E731  ("worst" picks by a per-image loss)
    out = FILLERS.call(name, x, m, pixels, generator, loss=score, worst_of=4)
    outside = (m == 0).expand_as(x)
    assert out.shape == x.shape
    assert torch.equal(out[outside], x[outside])
    inside = (m == 1).expand_as(x)
    assert not torch.equal(out[inside], x[inside])


def test_fillers_draw_in_pixel_space() -> None:
    x, m = batch()
    pixels = Pixels([0.5, 0.5, 0.5], [0.25, 0.25, 0.25], torch.device("cpu"))
    g = torch.Generator().manual_seed(0)
    inside = (m == 1).expand_as(x)
    black = FILLERS["black"](x, m, pixels, g)[inside]
    assert torch.allclose(black, torch.full_like(black, -2.0))  # (0 - 0.5) / 0.25
    minor = FILLERS["minor"](x, m, pixels, g)[inside] * 0.25 + 0.5
    assert minor.min() >= 0.45 - 1e-6 and minor.max() <= 0.55 + 1e-6
    colour = FILLERS["colour"](x, m, pixels, g)
    assert torch.unique(colour[0, 0][m[0, 0] == 1]).numel() == 1  # one colour per image


def test_borrowed_masks_go_to_images_of_other_classes() -> None:
    """Masks on class 0 only: each lends its mask to an image of another class, whose copy is
    filled there too, so filled pixels appear under every label."""
    x = torch.randn(8, 3, 8, 8)
    y = torch.tensor([0, 0, 0, 1, 2, 1, 2, 1])
    m = torch.zeros(8, 1, 8, 8)
    m[:3, :, :4] = 1
    pixels = Pixels([0, 0, 0], [1, 1, 1], torch.device("cpu"))
    loss_fn = PairedLoss("black", "l2", 1.0, pixels, torch.Generator().manual_seed(0), borrow=True)
    lenders, borrowers = loss_fn.borrowers(y, torch.tensor([0, 1, 2]), y == 0)
    assert lenders.tolist() == [0, 1, 2]
    assert all(int(y[b]) != 0 for b in borrowers)
    seen: list[torch.Tensor] = []
    model = nn.Sequential(nn.Flatten(), nn.Linear(192, 3))
    original = model.forward
    model.forward = lambda z: seen.append(z) or original(z)  # type: ignore[method-assign]
    loss_fn(model, x, y, m)
    [both] = seen  # images and copies in one forward (one batch-norm batch)
    copies = both[8:]
    assert len(copies) == 6  # three annotated images and three borrowers
    assert bool((copies[3:, :, :4] == 0).all())  # the lent mask, filled black
    for copy in copies[3:]:  # the rest is an image of another class, untouched
        assert any(torch.equal(copy[:, 4:], x[j, :, 4:]) for j in range(3, 8))
    same_class = PairedLoss("black", "l2", 1.0, pixels, torch.Generator(), borrow=True)
    labels, first = torch.zeros(4, dtype=torch.long), torch.tensor([0])
    assert same_class.borrowers(labels, first, labels == 1)[0].numel() == 0  # no other class
    annotated = torch.tensor([0, 1, 1, 1])
    assert same_class.borrowers(annotated, first, torch.ones(4, dtype=torch.bool))[0].numel() == 0


def test_mixture_choses_per_sample_and_does_not_crash() -> None:
    x = torch.randn(40, 3, 8, 8)
    m = torch.ones(40, 1, 8, 8)
    pixels = Pixels([0, 0, 0], [1, 1, 1], torch.device("cpu"))
    out = FILLERS["mixture"](x, m, pixels, torch.Generator().manual_seed(0))
    kinds = {round(float(out[i].std()), 2) == 0.0 for i in range(40)}
    assert kinds == {True, False}  # some flat fillers (black, colour) and some textured ones


def test_paired_loss_equals_its_formula_on_a_hand_computed_case() -> None:
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 2, bias=False))
    with torch.no_grad():
        model[1].weight.copy_(torch.tensor([[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]]))
    # Two 1-channel 2x2 images (3 channels would only repeat the arithmetic).
    model = nn.Sequential(nn.Conv2d(3, 1, 1, bias=False), model)
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([1.0, 0.0, 0.0]).view(1, 3, 1, 1))
    x = torch.zeros(2, 3, 2, 2)
    x[0, 0] = torch.tensor([[2.0, 0.0], [0.0, 1.0]])  # logits (2, 1)
    x[1, 0] = torch.tensor([[0.0, 0.0], [0.0, 3.0]])  # logits (0, 3)
    y = torch.tensor([0, 1])
    m = torch.zeros(2, 1, 2, 2)
    m[0, 0, 0, 0] = 1  # the top-left pixel of image 0 is spurious; image 1 has no mask
    pixels = Pixels([0.0] * 3, [1.0] * 3, torch.device("cpu"))
    loss_fn = PairedLoss(
        "black", "l2", 0.5, pixels, torch.Generator().manual_seed(0), copy_loss=True
    )
    loss, logits = loss_fn(model, x, y, m)
    assert torch.allclose(logits, torch.tensor([[2.0, 1.0], [0.0, 3.0]]))
    # x'0 has the top-left pixel black: logits (0, 1).
    ce = lambda z, t: -torch.log_softmax(torch.tensor(z), 0)[t]  # noqa: E731
    expected = (ce([2.0, 1.0], 0) + ce([0.0, 3.0], 1)) / 2 + ce([0.0, 1.0], 0) + 0.5 * (2.0**2)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)
    loss_fn.copy_loss = False  # the default: no cross-entropy on the copy
    without = (ce([2.0, 1.0], 0) + ce([0.0, 3.0], 1)) / 2 + 0.5 * (2.0**2)
    assert loss_fn(model, x, y, m)[0].item() == pytest.approx(without.item(), rel=1e-6)


@pytest.mark.parametrize("name", sorted(REGULARIZERS))
def test_regularizers_are_zero_for_equal_logits_and_per_sample(name: str) -> None:
    a = torch.randn(4, 5)
    assert REGULARIZERS[name](a, a.clone()).abs().item() < 1e-5
    b = a + torch.randn(4, 5)
    doubled = REGULARIZERS[name](torch.cat([a, a]), torch.cat([b, b]))
    assert doubled.item() == pytest.approx(REGULARIZERS[name](a, b).item(), rel=1e-5)


def test_kl_matches_torch() -> None:
    a, b = torch.randn(3, 4), torch.randn(3, 4)
    expected = (a.softmax(1) * (a.log_softmax(1) - b.log_softmax(1))).sum(1).mean()
    assert REGULARIZERS["kl"](a, b).item() == pytest.approx(expected.item(), rel=1e-5)


def test_worst_case_is_never_easier_than_its_deterministic_candidate() -> None:
    """The worst-of-4 candidates are uniform, weak, minor and black noise; black is fixed, so
    the chosen copy's loss must be at least black's for every image."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 4 * 4, 3))
    x, y = torch.randn(5, 3, 4, 4), torch.tensor([0, 1, 2, 0, 1])
    m = torch.ones(5, 1, 4, 4)
    pixels = Pixels([0.0] * 3, [1.0] * 3, torch.device("cpu"))
    worst = PairedLoss("worst", "l2", 1.0, pixels, torch.Generator().manual_seed(3), worst_of=4)
    chosen = worst.counterpart(model, x, y, m)
    black = FILLERS["black"](x, m, pixels, torch.Generator())
    with torch.no_grad():
        chosen_loss = F.cross_entropy(model(chosen), y, reduction="none")
        black_loss = F.cross_entropy(model(black), y, reduction="none")
    assert (chosen_loss >= black_loss - 1e-6).all()


def test_paired_training_runs_only_with_masks(demo: Workspace) -> None:
    images = demo.images("train", limit=10)
    truth = demo.root / "truth/masks/train"
    from PIL import Image

    for image in images:
        demo.masks.set(image.id, np.asarray(Image.open(truth / image.relpath)) > 0)
    version = demo.train(
        architecture="tiny_cnn",
        epochs=1,
        paired=True,
        filler="mixture",
        batch_size=16,
        predict=False,
    )
    assert version.config["paired"] is True and version.config["filler"] == "mixture"
    run = demo.root / "runs" / version.config["run"]
    assert list((run / "tensorboard").glob("events.out.tfevents.*"))
