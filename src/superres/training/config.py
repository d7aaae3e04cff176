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
    lr_multipliers = { conv3 = 0.1 }   # per name prefix; 0 freezes (no gradient computed)

    [schedule]
    name = "cosine"                # constant | step | cosine

    [train]
    steps = 20000
    batch_size = 64
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
import typing
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
        """The configuration as nested plain dicts (:func:`dataclasses.asdict`)."""
        return dataclasses.asdict(self)


_SECTIONS = {
    "model": ModelConfig,
    "data": DataConfig,
    "optim": OptimConfig,
    "schedule": ScheduleConfig,
    "clip": ClipConfig,
    "train": TrainLoopConfig,
}


#: the values a key may take (what the trainer and the patch sampler know)
_CHOICES: dict[str, tuple[str, ...]] = {
    "model.input": ("upsampled", "lr"),
    "data.patch_mode": ("random", "grid"),
    "optim.name": ("sgd", "adam", "adamw"),
    "schedule.name": ("constant", "step", "cosine"),
    "clip.mode": ("none", "norm", "value", "adjustable"),
    "train.loss": ("mse", "l1", "charbonnier"),
    "train.precision": ("fp32", "bf16"),
}

#: key -> the interval a number (or every number of a list or table) must lie in, as
#: "[low, high]" with ( ) for an open end and "inf" for none.  Keys not listed take any value of their type.
_RANGES: dict[str, str] = {
    "data.scales": "[1, inf)",
    "data.downscales": "(0, 1]",
    "data.patch_size": "[1, inf)",
    "data.stride": "[1, inf)",
    "data.label_border": "[0, inf)",
    "optim.lr": "(0, inf)",
    "optim.momentum": "[0, inf)",
    "optim.betas": "[0, 1)",
    "optim.weight_decay": "[0, inf)",
    "optim.lr_multipliers": "[0, inf)",
    "schedule.step_size": "[0, inf)",
    "schedule.gamma": "(0, inf)",
    "schedule.warmup_steps": "[0, inf)",
    "schedule.min_factor": "[0, 1]",
    "clip.value": "[0, inf)",
    "train.steps": "[1, inf)",
    "train.batch_size": "[1, inf)",
    "train.loss_border": "[0, inf)",
    "train.seed": "[0, 4294967295]",
    "train.val_every": "[1, inf)",
    "train.val_scales": "[1, inf)",
    "train.checkpoint_every": "[1, inf)",
    "train.log_every": "[1, inf)",
    "train.threads": "[0, inf)",
    "train.workers": "[0, inf)",
}

#: keys whose value may not be empty (a string, or a list)
_NOT_EMPTY = {"model.architecture", "data.train", "data.scales", "data.downscales", "train.val_dataset"}


def _bad(key: str, value: Any, expected: str) -> TrainingError:
    return TrainingError(f"{key} must be {expected}, got {value!r}")


def _convert(key: str, hint: Any, value: Any, text: str | None) -> Any:
    """``value`` as the type ``hint`` of a config field (``text``: the ``--set`` text it came from, if any)."""
    origin = typing.get_origin(hint)
    if origin is tuple:
        items = typing.get_args(hint)
        if isinstance(value, (str, int, float)) and not isinstance(value, bool) and items[-1] is Ellipsis:
            value = [text if text is not None and items[0] is str else value]  # one value for a list of them
        if not isinstance(value, list):
            raise _bad(key, value, f"a list of {_type_name(items[0])}s")
        if items[-1] is not Ellipsis and len(value) != len(items):
            raise _bad(key, value, f"a list of {len(items)} {_type_name(items[0])}s")
        return tuple(_convert(f"{key}[{i}]", items[0], v, None) for i, v in enumerate(value))
    if hint is bool:
        if not isinstance(value, bool):
            raise _bad(key, value, "true or false")
        return value
    if hint is int:
        if isinstance(value, float) and not isinstance(value, bool) and value.is_integer():
            value = int(value)  # 1e4
        if not isinstance(value, int) or isinstance(value, bool):
            raise _bad(key, value, "an integer")
        return value
    if hint is float:
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise _bad(key, value, "a number")
        if not math.isfinite(value):
            raise _bad(key, value, "a finite number")
        return float(value)
    if hint is str:
        if text is not None and isinstance(value, (int, float)) and not isinstance(value, bool):
            value = text  # --set train.val_dataset=291: a name that reads as a number
        if not isinstance(value, str):
            raise _bad(key, value, "a string")
        return value
    if hint is dict:
        if not isinstance(value, dict):
            raise _bad(key, value, "a table, e.g. { key = value }")
        return value
    return value


def _type_name(hint: Any) -> str:
    return {int: "integer", float: "number", str: "string", bool: "boolean"}.get(hint, str(hint))


def _check_range(key: str, value: Any) -> None:
    interval = _RANGES[key]
    low, high = (float(v) for v in interval[1:-1].split(","))
    if high == math.inf:
        expected = f"{'>=' if interval[0] == '[' else '>'} {interval[1:-1].split(',')[0]}"
    else:
        expected = f"in {interval}"
    many = isinstance(value, (tuple, dict))
    for v in value.values() if isinstance(value, dict) else value if many else [value]:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise _bad(key, value, "numbers" if many else "a number")
        inside = (low <= v if interval[0] == "[" else low < v) and (v <= high if interval[-1] == "]" else v < high)
        if not inside and many:
            raise TrainingError(f"every value of {key} must be {expected}, got {value!r}")
        if not inside:
            raise _bad(key, value, expected)


def _coerce(cls, values: Any, section: str, where: str, texts: dict[str, str]):
    if not isinstance(values, dict):
        raise TrainingError(f"{where} must be a table of keys, got {values!r}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for key, value in values.items():
        if key not in fields:
            raise TrainingError(f"{where}: unknown key {key!r} (known: {', '.join(fields)})")
        name = f"{section}.{key}"
        value = _convert(name, hints[key], value, texts.get(name))
        if name in _CHOICES and value not in _CHOICES[name]:
            raise TrainingError(f"{name} must be one of {', '.join(_CHOICES[name])}, got {value!r}")
        if name in _RANGES:
            _check_range(name, value)
        if name in _NOT_EMPTY and not value:
            raise TrainingError(f"{name} may not be empty")
        kwargs[key] = value
    return cls(**kwargs)


def _check_together(config: TrainConfig) -> None:
    """Checks of keys against each other (each key alone was checked by _coerce)."""
    if config.schedule.name == "step" and config.schedule.step_size < 1:
        raise TrainingError(f"the step schedule needs schedule.step_size >= 1, got {config.schedule.step_size}")
    if config.clip.mode != "none" and not config.clip.value > 0:
        raise TrainingError(f"clip.mode {config.clip.mode!r} needs clip.value > 0, got {config.clip.value}")
    for key, value in config.model.init_into.items():
        if not isinstance(value, str):
            raise TrainingError(f"model.init_into.{key} must be a weights name or file, got {value!r}")
    data = config.data
    target = data.patch_size * (min(data.scales) if config.model.input == "lr" else 1)
    if 2 * data.label_border >= target:
        raise TrainingError(f"data.label_border={data.label_border} leaves nothing of a {target}-pixel target patch")


def _parse_value(text: str) -> Any:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text  # a bare string


def load_config(path: str | Path, overrides: list[str] | None = None) -> TrainConfig:
    """Read a recipe and apply ``key=value`` overrides (``optim.lr=1e-4``, ``train.steps=500``).

    Every key is checked here, once: its type (the field's in the dataclasses above), its range
    and the keys that depend on each other; a bad value is a :class:`TrainingError` naming it.
    """
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise TrainingError(f"recipe {str(path)!r} does not exist") from None
    except IsADirectoryError:
        raise TrainingError(f"recipe {str(path)!r} is a folder, not a recipe file (TOML)") from None
    except OSError as exc:
        raise TrainingError(f"cannot read recipe {str(path)!r}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise TrainingError(f"recipe {str(path)!r} is not a text (TOML) file") from None
    except tomllib.TOMLDecodeError as exc:
        raise TrainingError(f"recipe {str(path)!r}: {exc}") from None
    texts: dict[str, str] = {}  # key -> the text --set gave it
    for item in overrides or []:
        if "=" not in item:
            raise TrainingError(f"--set needs key=value, got {item!r}")
        key, text = item.split("=", 1)
        parts = key.strip().split(".")
        target = raw
        for depth, part in enumerate(parts[:-1]):
            target = target.setdefault(part, {})
            if not isinstance(target, dict):
                raise TrainingError(f"--set {item!r}: {'.'.join(parts[:depth + 1])} is not a table")
        target[parts[-1]] = _parse_value(text.strip())
        texts[key.strip()] = text.strip()
    sections = {}
    for name, cls in _SECTIONS.items():
        sections[name] = _coerce(cls, raw.pop(name, {}), name, f"{path.name} [{name}]", texts)
    for key in ("name", "method"):
        if key not in raw:
            raise TrainingError(f"recipe {path.name}: missing top-level key {key!r}")
        if key in texts and isinstance(raw[key], (int, float)) and not isinstance(raw[key], bool):
            raw[key] = texts[key]  # --set name=2024: a name that reads as a number
        if not isinstance(raw[key], str) or not raw[key].strip():
            raise TrainingError(f"recipe {path.name}: {key} must be a non-empty string, got {raw[key]!r}")
    unknown = set(raw) - {"name", "method"}
    if unknown:
        raise TrainingError(f"recipe {path.name}: unknown keys {sorted(unknown)}")
    config = TrainConfig(name=raw["name"], method=raw["method"], recipe=str(path), **sections)
    _check_together(config)
    return config
