import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from robustar import Workspace, propose_model
from robustar.cli import main
from tests.conftest import write_folder


def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, *args: str):
    monkeypatch.setattr(sys, "argv", ["robustar", *map(str, args)])
    code = 0
    try:
        main()
    except SystemExit as exit_:
        code = exit_.code or 0
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_init_info_train_predict(
    tmp_path: Path, folders: dict[str, Path], monkeypatch, capsys
) -> None:
    ws = tmp_path / "ws"
    code, out, _ = run(
        monkeypatch,
        capsys,
        "init",
        ws,
        "--train",
        folders["train"],
        "--test",
        folders["test"],
        "--architecture",
        "tiny_cnn",
        "--image-size",
        "16",
        "-q",
    )
    assert code == 0 and "cat, dog, eel" in out
    code, out, _ = run(monkeypatch, capsys, "train", ws, "--epochs", "1", "--seed", "3", "-q")
    assert code == 0 and "trained model version 1" in out
    code, out, _ = run(monkeypatch, capsys, "predict", ws, "--split", "test", "-q")
    assert code == 0 and "test" in out and "8 images" in out
    code, out, _ = run(monkeypatch, capsys, "info", ws, "--json")
    info = json.loads(out)
    assert info["current_version"] == 1
    assert {s["name"]: s["images"] for s in info["splits"]} == {"train": 15, "test": 8}
    code, out, _ = run(monkeypatch, capsys, "models", "list", ws)
    assert code == 0 and "tiny_cnn" in out


def test_expected_mistakes_print_one_error_without_traceback(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    code, _, err = run(monkeypatch, capsys, "info", tmp_path)
    assert code == 2
    assert "not a Robustar workspace" in err and "fix" in err
    assert "Traceback" not in err
    code, _, err = run(monkeypatch, capsys, "init", tmp_path / "w", "--train", tmp_path / "none")
    assert code == 2 and "does not exist" in err and "Traceback" not in err
    assert not (tmp_path / "w").exists()


def test_scan_reports_problems(workspace: Workspace, monkeypatch, capsys) -> None:
    (workspace.folders["train"] / "cat" / "bad.jpg").write_bytes(b"xx")
    code, out, _ = run(monkeypatch, capsys, "scan", workspace.root, "-q")
    assert code == 0 and "bad.jpg" in out and "1 problems" in out


def test_models_use_and_import(demo: Workspace, tmp_path: Path, monkeypatch, capsys) -> None:
    import torch

    torch.save(demo.load_model().state_dict(), tmp_path / "copy.pt")
    code, out, _ = run(
        monkeypatch,
        capsys,
        "models",
        "import",
        demo.root,
        tmp_path / "copy.pt",
        "--architecture",
        "tiny_cnn",
    )
    assert code == 0 and "model version 2" in out
    code, out, _ = run(monkeypatch, capsys, "models", "use", demo.root, "1")
    assert code == 0 and demo.current_model.id == 1
    code, _, err = run(monkeypatch, capsys, "models", "use", demo.root, "9")
    assert code == 2 and "does not exist" in err


def test_demo_command_without_training(tmp_path: Path, monkeypatch, capsys) -> None:
    code, out, _ = run(
        monkeypatch, capsys, "demo", tmp_path / "d", "--no-serve", "--no-train", "-q"
    )
    assert code == 0 and "pool" in out
    with Workspace.open(tmp_path / "d") as ws:
        assert ws.count("train") == 3000 and ws.count("test") == 1000


def test_masks_export_import_progress(demo: Workspace, tmp_path: Path, monkeypatch, capsys):
    import numpy as np

    image = demo.images("train", limit=1)[0]
    demo.masks.set(image.id, np.eye(32, dtype=bool))
    code, out, _ = run(
        monkeypatch, capsys, "masks", "export", demo.root, tmp_path / "m.json", "--format", "coco"
    )
    assert code == 0 and "exported 1 spurious masks" in out
    code, out, _ = run(
        monkeypatch,
        capsys,
        "masks",
        "import",
        demo.root,
        tmp_path / "m.json",
        "--format",
        "coco",
        "--kind",
        "object",
        "--category",
        "spurious",  # the file's one category, exported from the spurious kind
    )
    assert code == 0 and np.array_equal(demo.masks.get(image.id, "object"), np.eye(32, dtype=bool))
    code, out, _ = run(monkeypatch, capsys, "masks", "progress", demo.root)
    assert code == 0 and "train" in out
    code, _, err = run(monkeypatch, capsys, "masks", "import", demo.root, tmp_path / "none")
    assert code == 2 and "cannot read" in err and "give an existing file" in err


def test_paired_training_warns_on_masks_of_one_class(demo: Workspace, monkeypatch, capsys):
    import numpy as np

    for image in demo.images("train", label="9", limit=5):
        demo.masks.set(image.id, np.ones((32, 32), dtype=bool))
    args = ("train", demo.root, "--paired", "--epochs", "1", "--no-predict", "--seed", "0")
    code, out, err = run(monkeypatch, capsys, *args, "-q")
    assert code == 0 and "trained model version" in out
    assert "warning: skewed masks: masks cover 1 of 10 classes (9)" in " ".join(err.split())
    assert "annotated" not in out  # -q keeps only the warning
    code, out, err = run(monkeypatch, capsys, "masks", "coverage", demo.root)
    assert code == 0 and "skewed masks" in err
    row = next(line for line in out.splitlines() if line.strip("│ ").startswith("9 "))
    assert [c.strip() for c in row.split("│")[1:5]] == [
        "9",
        str(demo.count("train", label="9")),
        "5",
        "100%",
    ]
    code, out, err = run(monkeypatch, capsys, "train", demo.root, "--epochs", "1", "--queue")
    assert code == 0 and "warning" not in err and "annotated" not in out  # not paired


def test_explain_and_attribute(demo: Workspace, tmp_path: Path, monkeypatch, capsys) -> None:
    image = demo.images("test", limit=1)[0]
    code, out, _ = run(
        monkeypatch,
        capsys,
        "explain",
        demo.root,
        str(image.id),
        "--method",
        "gradcam",
        "--out",
        tmp_path / "heat.png",
    )
    assert code == 0 and "gradcam for class" in out and (tmp_path / "heat.png").stat().st_size
    picture = tmp_path / "three.png"
    code, out, _ = run(monkeypatch, capsys, "activation", demo.root, "3", "--out", picture)
    assert code == 0 and f"class {demo.classes[3]}" in out
    assert Image.open(picture).size == (demo.config.image.size,) * 2
    code, _, err = run(monkeypatch, capsys, "activation", demo.root, "nope", "--out", picture)
    assert code == 2 and "unknown class" in err
    code, _, err = run(
        monkeypatch, capsys, "attribute", "build", demo.root, "--dim", "64", "--ensemble", "2", "-q"
    )
    assert code == 2 and "only the trak method" in err
    code, out, _ = run(
        monkeypatch,
        capsys,
        *("attribute", "build", demo.root, "--method", "trak", "--dim", "64", "--ensemble", "2"),
    )
    assert code == 0 and "200 training images, ensemble of 2 checkpoints" in out
    code, out, _ = run(monkeypatch, capsys, "attribute", "build", demo.root, "--dim", "64", "-q")
    assert code == 0 and "cosine index of version 1: 200 training images" in out
    code, out, _ = run(monkeypatch, capsys, "attribute", "query", demo.root, str(image.id))
    assert code == 0 and "helpful" in out and "harmful" in out
    assert f"explaining class {demo.classes[image.label]}" in out
    query = ("attribute", "query", demo.root, str(image.id), "--target", "7")
    code, out, _ = run(monkeypatch, capsys, *query)
    assert code == 0 and f"explaining class {demo.classes[7]}" in out
    code, out, _ = run(monkeypatch, capsys, "attribute", "suspicious", demo.root, "--limit", "3")
    assert code == 0 and "1. image" in out and "harms test image" in out
    by_score = demo.attribution.suspicious(limit=2, ordering="score")
    ranked = ("attribute", "suspicious", demo.root, "--limit", "2", "--ordering", "score")
    code, out, _ = run(monkeypatch, capsys, *ranked)
    assert code == 0 and f"2. image {by_score[1].image_id} " in out
    code, _, err = run(monkeypatch, capsys, *ranked[:-1], "best")
    assert code == 2 and "best" in err
    code, _, err = run(
        monkeypatch, capsys, "attribute", "query", demo.root, str(image.id), "--method", "influence"
    )
    assert code == 2 and "missing" in err


def test_queue_training_and_manage_jobs(demo: Workspace, monkeypatch, capsys) -> None:
    code, out, _ = run(
        monkeypatch,
        capsys,
        "train",
        demo.root,
        "--queue",
        "--paired",
        "--architecture",
        "tiny_cnn",
        "--epochs",
        "1",
    )
    assert code == 0 and "queued training as job 1" in out
    job = demo.jobs.get(1)
    assert job.params["options"]["paired"] is True and job.status == "queued"
    code, out, _ = run(monkeypatch, capsys, "jobs", "list", demo.root)
    assert code == 0 and "train" in out and "queued" in out
    code, out, _ = run(monkeypatch, capsys, "jobs", "cancel", demo.root, "1")
    assert code == 0 and "cancelled" in out and demo.jobs.get(1).status == "cancelled"
    code, out, _ = run(monkeypatch, capsys, "jobs", "resume", demo.root, "1")
    assert code == 0 and demo.jobs.get(1).status == "queued"
    code, _, err = run(monkeypatch, capsys, "jobs", "cancel", demo.root, "7")
    assert code == 2 and "does not exist" in err
    code, _, err = run(monkeypatch, capsys, "train", demo.root, "--queue", "--filler", "glitter")
    assert code == 2 and "filler" in err


def test_explain_a_whole_split(demo: Workspace, monkeypatch, capsys) -> None:
    code, out, _ = run(monkeypatch, capsys, "explain", demo.root, "--split", "validation", "-q")
    assert code == 0 and "cached for 50 validation images" in out
    assert len(list((demo.root / "cache/saliency").rglob("*.npy"))) == 50


def test_config_errors_keep_their_section_names(workspace: Workspace, monkeypatch, capsys) -> None:
    workspace.close()
    config = workspace.root / "robustar.toml"
    text = config.read_text()
    config.write_text(text.replace("[data]\n", "[data]\nnonsense = 1\n"))
    code, _, err = run(monkeypatch, capsys, "info", workspace.root)
    assert code == 2 and "[data] nonsense: unknown field" in err
    config.write_text(text.replace(str(workspace.folders["train"]), "/no/such/folder"))
    code, _, err = run(monkeypatch, capsys, "info", workspace.root)
    assert code == 2 and "error: [data] train: folder /no/such/folder does not exist" in err


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ('architecture = "no_such_net"', "[model] architecture: unknown model 'no_such_net'"),
        ('architecture = "os:system"', "[model] architecture: building 'os:system' failed"),
        ('architecture = "os:getcwd"', "returned str, not a torch module"),
        ('architecture = "tiny_cnn"\ncheckpoint = "gone.pt"', "[model] checkpoint: file"),
    ],
)
def test_info_refuses_a_model_the_workspace_cannot_build(
    workspace: Workspace, model: str, message: str, monkeypatch, capsys
) -> None:
    workspace.close()
    config = workspace.root / "robustar.toml"
    config.write_text(config.read_text().replace('architecture = "tiny_cnn"', model))
    code, _, err = run(monkeypatch, capsys, "info", workspace.root)
    assert code == 2 and message in err and "fix:" in err and "Traceback" not in err


def test_a_text_file_as_checkpoint_is_an_error_line(
    workspace: Workspace, tmp_path: Path, monkeypatch, capsys
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hello, these are my notes\n")
    code, _, err = run(monkeypatch, capsys, "models", "import", workspace.root, notes)
    assert code == 2 and "not a readable PyTorch file" in err and "fix:" in err
    train = workspace.folders["train"]
    code, _, err = run(
        monkeypatch, capsys, "init", tmp_path / "w", "--train", train, "--checkpoint", notes
    )
    assert code == 2 and "not a readable PyTorch file" in err and "Traceback" not in err
    assert not (tmp_path / "w").exists()


def test_a_custom_model_works_in_later_commands_without_pythonpath(
    tmp_path: Path, folders: dict[str, Path], monkeypatch, capsys
) -> None:
    """The folder the module came from is recorded at init and put on sys.path at open."""
    code_dir = tmp_path / "my code"
    code_dir.mkdir()
    shutil.copy(Path(__file__).parent / "custom_model.py", code_dir / "my_net.py")
    monkeypatch.syspath_prepend(str(code_dir))
    ws = tmp_path / "ws"
    args = ["init", ws, "--train", folders["train"], "--architecture", "my_net:build", "-q"]
    assert run(monkeypatch, capsys, *args)[0] == 0
    assert f"python_path = {json.dumps(str(code_dir))}" in (ws / "robustar.toml").read_text()
    # a later command, as in a new process: neither the folder on sys.path nor the module loaded
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p != str(code_dir)])
    monkeypatch.delitem(sys.modules, "my_net")
    code, _, err = run(monkeypatch, capsys, "models", "list", ws)  # opening builds my_net:build
    assert code == 0, err
    assert Path(sys.modules["my_net"].__file__).parent == code_dir


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--help"],
        *([c, "--help"] for c in ("info", "attribute", "masks", "demo", "init", "runs")),
    ],
)
def test_the_cli_starts_without_torch(args: list[str]) -> None:
    """`robustar --help` takes a fraction of a second: torch (seconds of imports) loads only
    when a command that needs it runs or shows its help."""
    script = (
        "import sys\nfrom robustar.cli import main\nsys.argv[:] = sys.argv[1:]\n"
        "try:\n    main()\nfinally:\n    print('torch' in sys.modules, file=sys.stderr)"
    )
    command = [sys.executable, "-c", script, "robustar", *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert "Usage" in result.stdout + result.stderr, result.stderr
    assert result.stderr.rstrip().endswith("False"), "importing the CLI imported torch"


def test_init_proposes_a_model_from_the_image_size(tmp_path: Path, monkeypatch, capsys) -> None:
    small = write_folder(tmp_path / "small", {"a": 3, "b": 3}, size=48)
    large = write_folder(tmp_path / "large", {"a": 2, "b": 2}, size=150)
    assert (propose_model(small).architecture, propose_model(small).size) == ("small_cnn", 48)
    assert (propose_model(large).architecture, propose_model(large).size) == ("resnet18", 160)
    assert propose_model(small, "resnet50").size == 96  # a given architecture keeps its rule
    code, out, _ = run(monkeypatch, capsys, "init", tmp_path / "s", "--train", small, "-q")
    assert code == 0 and "small_cnn at 48 px" in out and "median image side 48 px" in out
    with Workspace.open(tmp_path / "s") as ws:
        assert (ws.config.model.architecture, ws.config.image.size) == ("small_cnn", 48)
    args = ["init", tmp_path / "t", "--train", small, "--architecture", "tiny_cnn", "-q"]
    code, out, _ = run(monkeypatch, capsys, *args)
    assert code == 0 and "tiny_cnn at 48 px" in out
    args = ["init", tmp_path / "u", "--train", small, "--architecture", "tiny_cnn"]
    code, out, _ = run(monkeypatch, capsys, *args, "--image-size", "20", "-q")
    assert code == 0 and "proposed" not in out  # both given: nothing to propose
    with Workspace.open(tmp_path / "u") as ws:
        assert ws.config.image.size == 20


def test_long_commands_announce_their_steps() -> None:
    from io import StringIO

    from rich.console import Console

    from robustar.cli.progress import announce_steps

    out, seen = StringIO(), []
    steps = {"generate": "make data", "train": "train it"}
    progress = announce_steps(lambda *a: seen.append(a), Console(file=out), steps)
    for stage in ("generate demo data", "generate demo data", "train epoch 1/2", "train epoch 2/2"):
        progress(stage, 1, 2)
    assert out.getvalue().splitlines() == ["step 1/2: make data", "step 2/2: train it"]
    assert len(seen) == 4 and announce_steps(None, Console(file=out), steps) is None


def test_help_lists_the_workspace_commands_first(monkeypatch, capsys) -> None:
    from robustar.cli import FIRST
    from robustar.cli.common import app

    names = [c.name or c.callback.__name__.replace("_", "-") for c in app.registered_commands]
    assert tuple(names[: len(FIRST)]) == FIRST
    code, out, _ = run(monkeypatch, capsys, "--help")
    assert code == 0 and out.index(" init ") < out.index(" demo ") < out.index(" assign ")
