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
    module_name, _, attr = MODELS[architecture].partition(":")
    try:
        return getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:  # a plugin's entry point that leads nowhere
        raise UnknownNameError(f"architecture {architecture!r} ({MODELS[architecture]}) cannot be loaded: {exc}") from None


def build_model(architecture: str, **model_args) -> nn.Module:
    """A freshly initialised network."""
    return model_class(architecture)(**model_args)


def model_from_weights(name_or_path: str) -> tuple[nn.Module, dict]:
    """Rebuild a network from a weights file and its card; returns ``(model in eval mode, card)``."""
    from superres.weights.store import load_weights

    entry = load_weights(name_or_path)
    card = entry.card
    architecture, model_args = card.get("architecture"), card.get("model_args", {})
    if not isinstance(architecture, str) or not isinstance(model_args, dict):
        raise WeightsError(f"{entry.path.name}: its card needs 'architecture' (a name) and 'model_args' (an object)")
    try:
        model = build_model(architecture, **model_args)
    except (TypeError, ValueError) as exc:  # arguments of another architecture, or out of range
        raise WeightsError(f"{entry.path.name}: the card's model_args do not fit {architecture}: {exc}") from None
    try:
        model.load_state_dict(entry.tensors, strict=True)
    except RuntimeError as exc:
        raise WeightsError(f"{entry.path.name}: weights do not fit {card['architecture']} {card.get('model_args')}: {exc}") from None
    return model.eval(), card
