"""Training recipes: a TOML file per recipe in ``recipes/``, read into frozen dataclasses.

``superres train RECIPE --set optim.lr=1e-4 --set train.steps=1000`` overrides
single keys; the trainer never mutates the config.  A recipe looks like::

    name = "srcnn-955-x3"          # run folder name and weights tag
    method = "srcnn-955"           # the method these weights serve

    [model]
    architecture = "srcnn"
    args = { f1 = 9, f2 = 5, f3 = 5 }
    input = "upsampled"            # or "lr" for sub-pixel models

    [data]
    train = ["291"]                # named sets or folders
    scales = [3]
    downscales = [1.0, 0.9, 0.8, 0.7, 0.6]
    patch_mode = "random"          # or "grid" (SRCNN sub-images)
    patch_size = 33
    label_border = 6               # SRCNN 'valid' training

    [optim]
    name = "adam"                  # sgd | adam | adamw
    lr = 1e-3
    lr_multipliers = { conv3 = 0.1 }

    [schedule]
    name = "cosine"                # constant | step | cosine

    [train]
    steps = 20000
    batch_size = 64
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from superres.errors import TrainingError

__all__ = ["ModelConfig", "DataConfig", "OptimConfig", "ScheduleConfig", "ClipConfig", "TrainLoopConfig", "TrainConfig", "load_config"]


@dataclass(frozen=True)
class ModelConfig:
    architecture: str = "srcnn"
    args: dict = field(default_factory=dict)
    input: str = "upsampled"
    #: SRCNN's authors quantise the LR Y before use; VDSR's do not
    round_y_input: bool = False
    #: train with 'valid' convolutions (SRCNN); the model's padding attribute is switched
    valid_training: bool = False
    #: initialise from these weights (safetensors path or shipped name) before training;
    #: through the model's load_initial_weights(tensors, card) when it has one
    init_from: str = ""
    #: then load weights into submodules, ``{"scn.0" = "scn.291-x2"}``: a part trained on its own
    #: (an x2 SCN) replaces that part of a whole start (a cascade's first stage)
    init_into: dict = field(default_factory=dict)


@dataclass(frozen=True)
class DataConfig:
    train: tuple[str, ...] = ("291",)
    scales: tuple[int, ...] = (3,)
    downscales: tuple[float, ...] = (1.0,)
    patch_mode: str = "random"
    patch_size: int = 33
    stride: int = 14
    label_border: int = 0
    augment: bool = True


@dataclass(frozen=True)
class OptimConfig:
    name: str = "adam"
    lr: float = 1e-3
    momentum: float = 0.9
    betas: tuple[float, float] = (0.9, 0.999)
    weight_decay: float = 0.0
    #: learning-rate factor per parameter-name prefix, e.g. {"conv3": 0.1}
    lr_multipliers: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ScheduleConfig:
    name: str = "constant"
    #: step schedule: multiply by gamma every step_size steps
    step_size: int = 0
    gamma: float = 0.1
    warmup_steps: int = 0
    #: cosine schedule: final lr = lr * min_factor
    min_factor: float = 0.0


@dataclass(frozen=True)
class ClipConfig:
    #: none | norm | value | adjustable (VDSR: clip to [-theta/lr, theta/lr])
    mode: str = "none"
    value: float = 0.0


@dataclass(frozen=True)
class TrainLoopConfig:
    steps: int = 1000
    batch_size: int = 64
    loss: str = "mse"
    #: pixels left out of the loss on each side of the output, so that only pixels whose
    #: receptive field lies inside the patch are scored (padding-free nets use
    #: model.valid_training instead); a cascade's earlier stages leave out the same fraction
    loss_border: int = 0
    precision: str = "fp32"
    channels_last: bool = True
    seed: int = 0
    val_every: int = 1000
    val_dataset: str = "Set5"
    val_scales: tuple[int, ...] = ()
    checkpoint_every: int = 200
    log_every: int = 20
    threads: int = 0
    #: worker processes that cut the next batches while the model trains (0: in the loop).
    #: A batch depends only on (seed, step), so workers change speed, never the result.
    workers: int = 0


@dataclass(frozen=True)
class TrainConfig:
    name: str
    method: str
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    clip: ClipConfig = field(default_factory=ClipConfig)
    train: TrainLoopConfig = field(default_factory=TrainLoopConfig)
    recipe: str = ""

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


_SECTIONS = {
    "model": ModelConfig,
    "data": DataConfig,
    "optim": OptimConfig,
    "schedule": ScheduleConfig,
    "clip": ClipConfig,
    "train": TrainLoopConfig,
}


def _coerce(cls, values: dict, where: str):
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in values.items():
        if key not in fields:
            raise TrainingError(f"{where}: unknown key {key!r} (known: {', '.join(fields)})")
        default = getattr(cls(), key) if key != "name" else None
        if isinstance(default, tuple) and isinstance(value, list):
            value = tuple(value)
        elif isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        kwargs[key] = value
    return cls(**kwargs)


def _parse_value(text: str) -> Any:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text  # a bare string


def load_config(path: str | Path, overrides: list[str] | None = None) -> TrainConfig:
    """Read a recipe and apply ``key=value`` overrides (``optim.lr=1e-4``, ``train.steps=500``)."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise TrainingError(f"recipe {str(path)!r} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise TrainingError(f"recipe {str(path)!r}: {exc}") from None
    for item in overrides or []:
        if "=" not in item:
            raise TrainingError(f"--set needs key=value, got {item!r}")
        key, text = item.split("=", 1)
        parts = key.strip().split(".")
        target = raw
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = _parse_value(text.strip())
    sections = {}
    for name, cls in _SECTIONS.items():
        sections[name] = _coerce(cls, raw.pop(name, {}), f"{path.name} [{name}]")
    for key in ("name", "method"):
        if key not in raw:
            raise TrainingError(f"recipe {path.name}: missing top-level key {key!r}")
    unknown = set(raw) - {"name", "method"}
    if unknown:
        raise TrainingError(f"recipe {path.name}: unknown keys {sorted(unknown)}")
    return TrainConfig(name=raw["name"], method=raw["method"], recipe=str(path), **sections)
