import math

import numpy as np
import pytest
import torch

from robustar.errors import DataError
from robustar.predict.segmetrics import SegMetrics, SegScores, batch_confusion, scores
from robustar.train.segloss import SEG_LOSSES, segmentation_loss

# A hand-computed case: 5 labelled pixels (one ignored), pairs (truth, prediction):
# (0,0) (0,1) (1,1) (1,1) (2,2). Confusion rows = truth: [1 1 0] [0 2 0] [0 0 1].
# Pixel accuracy 4/5. IoU_0 = 1/(2+1-1) = 1/2, IoU_1 = 2/(2+3-2) = 2/3, IoU_2 = 1;
# class 3 appears nowhere: NaN and left out. mIoU = (1/2 + 2/3 + 1) / 3 = 13/18.
TRUTH = np.array([[0, 0, 1], [1, 2, 255]])
PRED = np.array([[0, 1, 1], [1, 2, 2]])


def test_hand_computed_case() -> None:
    confusion = batch_confusion(PRED, TRUTH, 4)[0]
    assert confusion.tolist() == [[1, 1, 0, 0], [0, 2, 0, 0], [0, 0, 1, 0], [0, 0, 0, 0]]
    got = scores(PRED, TRUTH, 4)
    assert got.pixel_accuracy == pytest.approx(0.8)
    assert got.iou[:3] == pytest.approx([1 / 2, 2 / 3, 1]) and math.isnan(got.iou[3])
    assert got.miou == pytest.approx(13 / 18)
    assert got.pixels == 5


def test_streaming_equals_one_pass_and_keeps_each_image() -> None:
    rng = np.random.default_rng(0)
    truth = torch.as_tensor(rng.integers(0, 3, (7, 6, 5)))
    truth[0, :2] = 255
    logits = torch.as_tensor(rng.normal(size=(7, 3, 6, 5)))
    metrics = SegMetrics(3)
    for start in (0, 3, 5):  # uneven batches
        stop = {0: 3, 3: 5, 5: 7}[start]
        metrics.update(
            logits[start:stop], truth[start:stop], image_ids=range(start + 10, stop + 10)
        )
    whole = scores(logits.argmax(1), truth, 3)
    assert metrics.result() == whole
    assert [s.image_id for s in metrics.images] == list(range(10, 17))
    assert metrics.images[4].scores == scores(logits[4].argmax(0), truth[4], 3)
    # the split's mIoU is its summed confusion's, not the mean of the images'
    assert metrics.result().miou != pytest.approx(np.mean([s.scores.miou for s in metrics.images]))


def test_bad_maps_are_refused() -> None:
    with pytest.raises(DataError, match="differ in shape"):
        batch_confusion(PRED, TRUTH[:, :2], 3)
    with pytest.raises(DataError, match=r"outside 0\.\.2"):
        batch_confusion(PRED, np.array([[0, 0, 5], [1, 2, 255]]), 3)
    assert math.isnan(SegScores.of(np.zeros((2, 2))).miou)


def test_losses_ignore_pixels_and_reward_the_right_answer() -> None:
    target = torch.tensor([[[0, 1], [2, 255]]])
    right = torch.nn.functional.one_hot(target.clamp(max=2), 3).permute(0, 3, 1, 2).float() * 20
    wrong = right.roll(1, dims=1)
    for name in SEG_LOSSES:
        good, bad = segmentation_loss(name, right, target), segmentation_loss(name, wrong, target)
        assert float(good) < 0.05 < float(bad), name
        # the ignored pixel's logits do not matter
        changed = right.clone()
        changed[0, :, 1, 1] = torch.tensor([0.0, 50.0, -9.0])
        assert torch.allclose(segmentation_loss(name, changed, target), good)
    total = segmentation_loss("ce+dice", wrong, target)
    assert torch.allclose(
        total, segmentation_loss("ce", wrong, target) + segmentation_loss("dice", wrong, target)
    )


def test_dice_hand_computed_and_gradient() -> None:
    # two pixels, both class 1; uniform logits over 2 classes: p = 0.5 everywhere.
    # class 0: overlap 0, sizes 1 + 0 → (0 + 1) / (1 + 1) = 1/2
    # class 1: overlap 1, sizes 1 + 2 → (2 + 1) / (3 + 1) = 3/4; loss = 1 - (1/2 + 3/4) / 2
    logits = torch.zeros(1, 2, 1, 2, requires_grad=True)
    loss = segmentation_loss("dice", logits, torch.ones(1, 1, 2, dtype=torch.long))
    assert float(loss.detach()) == pytest.approx(1 - (0.5 + 0.75) / 2)
    loss.backward()
    assert logits.grad is not None and float(logits.grad[0, 1].sum()) < 0  # raise class 1


def test_loss_errors() -> None:
    logits = torch.zeros(1, 3, 2, 2)
    with pytest.raises(DataError, match=r"outside 0\.\.2"):
        segmentation_loss("ce", logits, torch.full((1, 2, 2), 3))
    with pytest.raises(DataError, match="same size"):
        segmentation_loss("dice", logits, torch.zeros(1, 3, 3, dtype=torch.long))
    with pytest.raises(DataError, match="unknown segmentation loss"):
        segmentation_loss("focal", logits, torch.zeros(1, 2, 2, dtype=torch.long))
    with pytest.raises(DataError, match="smooth"):
        segmentation_loss("ce", logits, torch.zeros(1, 2, 2, dtype=torch.long), smooth=2.0)
    nothing = torch.full((1, 2, 2), 255)
    empty = segmentation_loss("ce", logits.requires_grad_(), nothing)
    empty.backward()  # a batch with nothing labelled still backpropagates: zero, not NaN
    assert float(empty.detach()) == 0 and logits.grad is not None and not logits.grad.any()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_on_cuda_as_on_the_cpu() -> None:
    logits, truth = torch.randn(4, 3, 8, 8), torch.randint(0, 3, (4, 8, 8))
    truth[0, 0] = 255
    on_cpu, on_gpu = SegMetrics(3), SegMetrics(3)
    on_cpu.update(logits, truth)
    on_gpu.update(logits.cuda(), truth.cuda())
    assert on_gpu.result() == on_cpu.result() and on_gpu.images == on_cpu.images
    for name in SEG_LOSSES:
        gpu = segmentation_loss(name, logits.cuda(), truth.cuda()).cpu()
        assert torch.allclose(gpu, segmentation_loss(name, logits, truth), atol=1e-5)
