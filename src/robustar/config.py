"""robustar.toml: the workspace configuration, validated once at load time."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from robustar.errors import ConfigError
from robustar.storage import atomic_bytes

CONFIG_FILE = "robustar.toml"
DEFAULT_SEGMENTER = "small_unet"
SPLITS = ("train", "validation", "test", "pool")
LABELLED_SPLITS = ("train", "validation", "test")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class DataConfig(_Section):
    """Split folders (relative to the workspace or absolute) and the class list."""

    task: Literal["classification", "segmentation"] = Field(
        default="classification",
        description="'segmentation': each split folder holds images/ and labels/ (label maps, "
        "same file stem, .png); the pool only images/; the classes come from 'classes' or "
        "'class_file' (see docs/segmentation.md)",
    )
    train: str
    validation: str | None = None
    test: str | None = None
    pool: str | None = None
    classes: list[str] | None = Field(
        default=None, description="class names in label order; default: train sub-folder names"
    )
    class_file: str | None = Field(default=None, description="text file, one class name per line")
    labels: str | None = Field(
        default=None,
        description="CSV table (file,label,split) of the images in the split folders, used "
        "instead of class sub-folders; written by 'robustar init --labels' and "
        "'robustar import-hf' into the workspace",
    )
    colours: list[str] | None = Field(
        default=None,
        description="segmentation: one '#rrggbb' per class in 'classes' (default: the PASCAL "
        "VOC palette); a class_file gives colours as 'name #rrggbb' lines",
    )
    ignore_index: Annotated[int, Field(ge=0, le=255)] = Field(
        default=255, description="segmentation: the label-map value of unlabelled pixels"
    )

    @model_validator(mode="after")
    def _one_class_source(self) -> DataConfig:
        if self.classes is not None and self.class_file is not None:
            raise ValueError("set either 'classes' or 'class_file', not both")
        if self.classes is not None and len(set(self.classes)) != len(self.classes):
            raise ValueError("'classes' contains a name twice")
        if self.task == "segmentation":
            if self.classes is None and self.class_file is None:
                raise ValueError(
                    "a segmentation task needs its class list: set 'classes' (background "
                    "first) or 'class_file'"
                )
            if self.labels is not None:
                raise ValueError("'labels' (a CSV of class labels) is for classification only")
        elif self.colours is not None:
            raise ValueError("'colours' is for task = 'segmentation' only")
        if self.colours is not None and len(self.colours) != len(self.classes or []):
            raise ValueError("'colours' needs 'classes' and one colour per class")
        return self

    def split_folder(self, split: str) -> str | None:
        return getattr(self, split)


class ImageConfig(_Section):
    """How images become tensors: size, resize policy and normalisation (mean and std: three
    values, one per RGB channel, or one for all three)."""

    size: Annotated[int, Field(ge=8, le=4096)] = 224
    resize: Literal["pad", "stretch", "crop"] = "pad"
    mean: Annotated[list[float], Field(min_length=3, max_length=3)] = [0.485, 0.456, 0.406]
    std: Annotated[list[float], Field(min_length=3, max_length=3)] = [0.229, 0.224, 0.225]
    max_pixels: Annotated[int, Field(ge=1)] = 89_478_485

    @field_validator("mean", "std", mode="before")
    @classmethod
    def _grey(cls, value: object) -> object:
        """One value (a grey model) stands for all three channels: images are decoded as RGB,
        a grey one with three equal channels."""
        return list(value) * 3 if isinstance(value, list | tuple) and len(value) == 1 else value

    @field_validator("std")
    @classmethod
    def _positive_std(cls, value: list[float]) -> list[float]:
        if any(v <= 0 for v in value):
            raise ValueError("every std value must be > 0")
        return value

    # --- biomedical images: channels, intensity, large images (see docs/decisions.md) ---
    channels: list[Annotated[int, Field(ge=0)]] | None = Field(
        default=None,
        description="which channels of a multi-channel image the model sees, in order, e.g. "
        "[2, 0, 1]; as many as the model's input channels; default: RGB as is, grey repeated",
    )
    display_channels: list[Annotated[int, Field(ge=0)]] | None = Field(
        default=None,
        description="channels the page shows: 1 (grey) or 3 (an RGB composite); "
        "default: those of 'channels'",
    )
    intensity: Literal["percentile", "range", "window"] = Field(
        default="percentile",
        description="how 16-bit and float data become 8-bit: 'percentile' stretches each "
        "channel of each image between 'percentiles', 'range' uses the full range of the "
        "data type, 'window' the fixed 'window'; 8-bit data are never rescaled",
    )
    percentiles: Annotated[list[float], Field(min_length=2, max_length=2)] = [1.0, 99.5]
    window: Annotated[list[float], Field(min_length=2, max_length=2)] | None = Field(
        default=None, description="[low, high] for intensity = 'window'"
    )
    dicom_window: bool = Field(
        default=True,
        description="use a DICOM file's WindowCenter/WindowWidth when it has them "
        "(RescaleSlope/Intercept are always applied)",
    )
    large: Literal["resize", "tile"] = Field(
        default="resize",
        description="images whose longer side exceeds 'large_threshold': 'resize' them to "
        "the model input like any image, or 'tile': cut them into tiles of 'size' when scanned",
    )
    large_threshold: Annotated[int, Field(ge=8)] = 4096

    @model_validator(mode="after")
    def _biomedical(self) -> ImageConfig:
        if self.channels is not None and len(self.channels) != len(self.mean):
            raise ValueError(
                f"'channels' lists {len(self.channels)} channels but the model takes "
                f"{len(self.mean)} (one per 'mean' value); list exactly {len(self.mean)}"
            )
        if self.display_channels is not None and len(self.display_channels) not in (1, 3):
            raise ValueError("'display_channels' lists 1 channel (grey) or 3 (red, green, blue)")
        low, high = self.percentiles
        if not 0 <= low < high <= 100:
            raise ValueError("'percentiles' is [low, high] with 0 <= low < high <= 100")
        if self.intensity == "window" and self.window is None:
            raise ValueError("intensity = 'window' needs 'window = [low, high]'")
        if self.window is not None and not self.window[0] < self.window[1]:
            raise ValueError("'window' is [low, high] with low < high")
        return self


class ModelConfig(_Section):
    """The architecture name (see robustar.models.registry) and optional starting weights."""

    architecture: str = "resnet18"
    checkpoint: str | None = None
    num_classes: Annotated[int, Field(ge=2)] | None = None
    python_path: str | None = Field(
        default=None,
        description="folder a module:callable architecture is imported from, put on sys.path "
        "when the workspace opens; recorded by 'robustar init'",
    )


class RuntimeConfig(_Section):
    device: Literal["auto", "cpu", "cuda", "mps"] = "auto"
    batch_size: Annotated[int, Field(ge=1, le=65536)] = 64
    workers: Annotated[int, Field(ge=0, le=64)] = 0


_HOST_NAME = re.compile(r"^([a-z0-9-]+\.)*[a-z0-9-]+$|^\[[0-9a-f:.]+\]$")


class ServerConfig(_Section):
    """Where `robustar serve` listens, and who may talk to it (see docs/api.md, 'Security')."""

    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 8000
    allowed_hosts: list[str] = Field(
        default_factory=list,
        description="more Host names the server answers to (besides localhost, 127.0.0.1, "
        "::1 and the address it is reached on), e.g. the machine's name on your network",
    )
    token: Annotated[str, Field(min_length=16)] | None = Field(
        default=None,
        description="a secret that clients other than the web page send as "
        "'Authorization: Bearer <token>' to change anything; env ROBUSTAR_TOKEN overrides it",
    )
    max_upload_mb: Annotated[int, Field(ge=1, le=65536)] = 1024
    team: bool = Field(
        default=False,
        description="team mode: accounts with roles, sign-in, authorship (README 'Team mode'); "
        "needs an admin account, allowed_hosts, and TLS or a trusted proxy",
    )
    tls_certfile: str | None = Field(default=None, description="TLS certificate (PEM) to serve")
    tls_keyfile: str | None = Field(default=None, description="its private key (PEM)")
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="addresses of a reverse proxy that terminates TLS in front of the server; "
        "its X-Forwarded-For and X-Forwarded-Proto headers are believed",
    )
    insecure_http: bool = Field(
        default=False,
        description="team mode over plain HTTP (a trusted LAN only): passwords and session "
        "cookies cross the network readable; 'robustar serve --insecure-http' sets it",
    )

    @field_validator("allowed_hosts")
    @classmethod
    def _host_names(cls, names: list[str]) -> list[str]:
        names = [n.strip().lower() for n in names]
        for name in names:
            if not _HOST_NAME.match(name):
                raise ValueError(
                    f"{name!r} is not a host name; give names such as 'gpu-box' or "
                    "'gpu-box.lan' or addresses such as '192.168.1.5' (no scheme, port or path)"
                )
        return names


class DatabaseConfig(_Section):
    url: str | None = Field(default=None, description="SQLAlchemy URL; default: SQLite file")


class SegmentationConfig(_Section):
    """An optional segmentation model that proposes masks on the annotation page."""

    backend: str = Field(description="a registered segmentation backend: torchvision or sam")
    checkpoint: str = Field(description="user-supplied weights; nothing is downloaded")
    architecture: str = Field(
        "deeplabv3_resnet50", description="torchvision segmentation model (torchvision backend)"
    )
    num_classes: Annotated[int, Field(ge=2)] = 21
    target_class: Annotated[int, Field(ge=0)] | None = Field(
        None, description="propose this class; default: the class under the click"
    )
    model_type: Literal["vit_b", "vit_l", "vit_h"] = "vit_b"


class WorkspaceConfig(_Section):
    data: DataConfig
    image: ImageConfig = ImageConfig()
    model: ModelConfig = ModelConfig()
    runtime: RuntimeConfig = RuntimeConfig()
    server: ServerConfig = ServerConfig()
    database: DatabaseConfig = DatabaseConfig()
    segmentation: SegmentationConfig | None = None

    @model_validator(mode="before")
    @classmethod
    def _segmenter_by_default(cls, values: Any) -> Any:
        """A segmentation task without an architecture gets the built-in U-Net, not the
        classifier default."""
        if not isinstance(values, dict):
            return values
        data, model = values.get("data"), values.get("model")
        task = data.get("task") if isinstance(data, dict) else getattr(data, "task", None)
        if task != "segmentation":
            return values
        if model is None:
            return {**values, "model": {"architecture": DEFAULT_SEGMENTER}}
        if isinstance(model, dict) and "architecture" not in model:
            return {**values, "model": {**model, "architecture": DEFAULT_SEGMENTER}}
        if isinstance(model, ModelConfig) and "architecture" not in model.model_fields_set:
            return {**values, "model": model.model_copy(update={"architecture": DEFAULT_SEGMENTER})}
        return values

    def to_toml(self) -> str:
        return tomli_w.dumps(self.model_dump(exclude_none=True))


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if not isinstance(p, int)]
    if len(parts) >= 2:
        return f"[{'.'.join(parts[:-1])}] {parts[-1]}"
    return f"[{parts[0]}]" if parts else "(top level)"


def _explain(error: ValidationError, path: Path) -> ConfigError:
    problems = []
    for item in error.errors():
        name = _field_name(item["loc"])
        if item["type"] == "extra_forbidden":
            problems.append(f"{name}: unknown field; remove it or check its spelling")
        elif item["type"] == "missing":
            problems.append(f"{name}: required field is missing; add it")
        else:
            problems.append(f"{name}: {item['msg']} (got {item.get('input')!r})")
    return ConfigError(
        f"{path}: invalid configuration\n  - " + "\n  - ".join(problems),
        "edit the fields listed above; README.md ('Configuration') lists every field",
    )


def parse_config(data: dict[str, Any], path: Path) -> WorkspaceConfig:
    try:
        return WorkspaceConfig.model_validate(data)
    except ValidationError as error:
        raise _explain(error, path) from None


def load_config(root: Path) -> WorkspaceConfig:
    path = root / CONFIG_FILE
    if not path.is_file():
        raise ConfigError(
            f"{path} does not exist: {root} is not a Robustar workspace",
            f"create one with 'robustar init {root} --train <folder>' or 'robustar demo {root}'",
            f"create one with robustar.Workspace.create({str(root)!r}, robustar.WorkspaceConfig("
            "data={'train': <folder>})), or robustar.demo.create_demo(...)",
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path} is not valid TOML: {error}", "fix the syntax there") from None
    return parse_config(data, path)


def write_config(root: Path, config: WorkspaceConfig) -> Path:
    path = root / CONFIG_FILE
    atomic_bytes(path, config.to_toml().encode("utf-8"))
    return path
