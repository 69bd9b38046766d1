"""End to end: a workspace on 16-bit TIFFs, DICOMs and a slide; predict; thumbnails served."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient
from PIL import Image

from robustar import Workspace, WorkspaceConfig
from robustar.config import DataConfig, ImageConfig, ModelConfig, RuntimeConfig
from robustar.server.app import create_app
from tests.biomed_files import dicom16, tiff16


def biomedical_folder(root: Path) -> Path:
    rng = np.random.default_rng(0)
    for k, name in enumerate(["normal", "lesion"]):
        for i in range(4):
            base = 800 + 1500 * k  # 12-bit values: black if scaled by the 16-bit range
            planes = rng.integers(base, base + 1200, (4, 20, 24), dtype=np.uint16)
            tiff16(root / name / f"cells{i}.tif", planes, axes="CYX")
            stored = rng.integers(0, 2000, (24, 20), dtype=np.uint16)
            dicom16(root / name / f"ct{i}.dcm", stored, 1, -1024, window=(40 + 200 * k, 400))
    slide = rng.integers(0, 4000, (70, 90), dtype=np.uint16)
    tiff16(root / "lesion" / "slide.tif", slide)
    return root


def test_biomedical_workspace_predicts_and_serves_8_bit_thumbnails(tmp_path: Path) -> None:
    train = biomedical_folder(tmp_path / "data")
    config = WorkspaceConfig(
        data=DataConfig(train=str(train)),
        image=ImageConfig(
            size=32, channels=[2, 0, 1], display_channels=[3], large="tile", large_threshold=64
        ),
        model=ModelConfig(architecture="tiny_cnn"),
        runtime=RuntimeConfig(batch_size=8, device="cpu"),
    )
    with Workspace.create(tmp_path / "ws", config) as ws:
        problems = {rel: message for _, rel, message in ws.problems()}
        assert (
            list(problems) == ["lesion/slide.tif"]
            and "cut into 32 px tiles" in problems["lesion/slide.tif"]
        )
        names = [i.relpath for i in ws.images("train", limit=100)]
        assert len(names) == 16 + 9  # 8 TIFFs, 8 DICOMs, 3 x 3 tiles of the 70 x 90 slide
        assert "lesion/slide_tiles/slide_l0_x58_y38.tif" in names  # coordinates in the name
        ws.train(architecture="tiny_cnn", epochs=1, batch_size=8, seed=0)
        assert ws.metrics("train").accuracy is not None
        client = TestClient(create_app(ws))
        for image in ws.images("train", limit=100):
            if not image.relpath.endswith(("cells0.tif", "ct0.dcm", "x58_y38.tif")):
                continue
            thumb = client.get(f"/api/v1/images/{image.id}/thumbnail", params={"size": 64})
            page = client.get(f"/api/v1/images/{image.id}/file")
            assert thumb.status_code == 200 and page.headers["content-type"] == "image/png"
            for body in (thumb.content, page.content):
                shown = np.asarray(Image.open(io.BytesIO(body)))
                assert shown.dtype == np.uint8 and 10 < shown.mean() < 245, image.relpath
                assert shown.std() > 5  # not flat
        (tmp_path / "data" / "normal" / "cells0.tif").write_bytes(b"II*\x00broken")
        (report,) = ws.scan()
        assert "normal/cells0.tif" in dict(report.problems)
        assert "corrupt or unreadable TIFF" in dict(report.problems)["normal/cells0.tif"]
