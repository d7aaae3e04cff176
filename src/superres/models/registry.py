"""Network architectures by name (``nn.Module`` classes), imported lazily.

A model card records ``architecture`` (a key of :data:`MODELS`) and
``model_args`` (the constructor's keyword arguments), so a weights file is
rebuilt exactly, never guessed from tensor shapes.
"""

from __future__ import annotations

import importlib

from torch import nn

from superres.errors import UnknownNameError, WeightsError
from superres.plugins import ARCHITECTURES_GROUP, add_plugins

__all__ = ["MODELS", "model_class", "build_model", "model_from_weights"]

MODELS: dict[str, str] = {
    "srcnn": "superres.models.srcnn:SRCNN",
    "vdsr": "superres.models.vdsr:VDSR",
    "litesr": "superres.models.litesr:LiteSR",
    "scn": "superres.models.scn:SCN",
    "cscn": "superres.models.scn:CascadeSCN",
}


def model_class(architecture: str) -> type[nn.Module]:
    """The ``nn.Module`` class of ``architecture`` (a key of :data:`MODELS`, or an installed
    package's entry point, :mod:`superres.plugins`), imported on demand."""
    if architecture not in MODELS:
        add_plugins(MODELS, ARCHITECTURES_GROUP)
    if architecture not in MODELS:
        raise UnknownNameError(f"unknown architecture {architecture!r} (known: {', '.join(sorted(MODELS))})")
    module_name, attr = MODELS[architecture].split(":")
    return getattr(importlib.import_module(module_name), attr)


def build_model(architecture: str, **model_args) -> nn.Module:
    """A freshly initialised network."""
    return model_class(architecture)(**model_args)


def model_from_weights(name_or_path: str) -> tuple[nn.Module, dict]:
    """Rebuild a network from a weights file and its card; returns ``(model in eval mode, card)``."""
    from superres.weights.store import load_weights

    entry = load_weights(name_or_path)
    card = entry.card
    model = build_model(card["architecture"], **card.get("model_args", {}))
    try:
        model.load_state_dict(entry.tensors, strict=True)
    except RuntimeError as exc:
        raise WeightsError(f"{entry.path.name}: weights do not fit {card['architecture']} {card.get('model_args')}: {exc}") from None
    return model.eval(), card
