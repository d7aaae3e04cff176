"""Weights on disk: a ``.safetensors`` file and a JSON model card beside it.

Names follow ``arch.tag`` (e.g. ``srcnn-955.291-x3``).  Shipped files live in
``superres/weights/files/``; any other path to a ``.safetensors`` file works
too.  Loading never unpickles: tensors come from safetensors, metadata from
JSON, and the file's sha256 must match the card.

A card (``<name>.json``) holds::

    name, architecture, model_args, scales, channels, params,
    training: {data, recipe, command, steps, wall_time_s, hardware, notes},
    evaluation: {"results": [...]}   # written by `superres evaluate --update-card`
    sha256, file
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import torch
from safetensors.torch import load_file, save

from superres.errors import WeightsError
from superres.io.atomic import write_bytes_atomic, write_text_atomic
from superres.io.jsontext import dumps_json

__all__ = [
    "SHIPPED_DIR",
    "WeightsEntry",
    "shipped_weight_names",
    "weights_path",
    "load_weights",
    "save_weights",
    "read_card",
    "write_card",
]

SHIPPED_DIR = Path(__file__).parent / "files"


class WeightsEntry:
    """A weights file and its card, loaded and verified."""

    def __init__(self, tensors: dict[str, torch.Tensor], card: dict, path: Path) -> None:
        self.tensors = tensors
        self.card = card
        self.path = path

    @property
    def name(self) -> str:
        """The weights' name, from the card."""
        return self.card["name"]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def shipped_weight_names() -> list[str]:
    """Names of the weights shipped inside the package."""
    if not SHIPPED_DIR.is_dir():
        return []
    return sorted(p.stem for p in SHIPPED_DIR.glob("*.safetensors"))


def weights_path(name_or_path: str | os.PathLike) -> Path:
    """Resolve a shipped name or a path to a ``.safetensors`` file."""
    path = Path(name_or_path)
    if path.suffix == ".safetensors":
        if not path.is_file():
            raise WeightsError(f"weights file {str(path)!r} does not exist")
        return path
    shipped = SHIPPED_DIR / f"{name_or_path}.safetensors"
    if shipped.is_file():
        return shipped
    if path.is_file():  # a file, but not weights: say so rather than look it up as a name
        raise WeightsError(f"{str(path)!r} is not a weights file (a .safetensors file with its .json card)")
    known = ", ".join(shipped_weight_names()) or "none"
    raise WeightsError(f"no weights named {str(name_or_path)!r} (shipped: {known})")


def read_card(weights_file: Path) -> dict:
    """The JSON card beside ``weights_file`` (same name, ``.json``); raises ``WeightsError`` if missing or invalid."""
    card_path = weights_file.with_suffix(".json")
    if not card_path.is_file():
        raise WeightsError(f"{weights_file.name}: model card {card_path.name} is missing")
    try:
        card = json.loads(card_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise WeightsError(f"{card_path}: invalid JSON ({exc})") from None
    except UnicodeDecodeError:
        raise WeightsError(f"{card_path}: not a JSON text (not UTF-8)") from None
    if not isinstance(card, dict):
        raise WeightsError(f"{card_path}: a model card is a JSON object, not {type(card).__name__}")
    return card


def write_card(weights_file: Path, card: dict) -> None:
    """Write ``card`` beside ``weights_file`` (atomically)."""
    write_text_atomic(weights_file.with_suffix(".json"), dumps_json(card, indent=2) + "\n")


def load_weights(name_or_path: str | os.PathLike, *, verify: bool = True) -> WeightsEntry:
    """Load tensors and card; check the sha256 recorded in the card."""
    path = weights_path(name_or_path)
    card = read_card(path)
    if verify and "sha256" not in card:
        raise WeightsError(f"{path.name}: its card records no sha256 (cards are written by save_weights)")
    if verify and card["sha256"] != _sha256(path):
        raise WeightsError(f"{path.name}: sha256 does not match its card (file corrupt or card stale)")
    try:
        tensors = load_file(str(path))
    except Exception as exc:  # safetensors raises its own error types
        raise WeightsError(f"{path.name}: cannot read weights ({exc})") from None
    return WeightsEntry(tensors, card, path)


def save_weights(path: str | os.PathLike, tensors: dict[str, torch.Tensor], card: dict) -> Path:
    """Write ``tensors`` as safetensors and ``card`` (with file name and sha256 filled in) as JSON."""
    path = Path(path)
    if path.suffix != ".safetensors":  # "w.pt" -> "w.safetensors", but "scn.291-x2" keeps its tag
        known = path.suffix.lower() in (".pt", ".pth", ".ckpt", ".bin", ".json")
        path = path.with_suffix(".safetensors") if known else path.with_name(path.name + ".safetensors")
    path.parent.mkdir(parents=True, exist_ok=True)
    data = save({k: v.detach().contiguous().cpu() for k, v in tensors.items()})
    write_bytes_atomic(path, data)
    card = dict(card)
    card["name"] = card.get("name") or path.stem
    card["file"] = path.name
    card["sha256"] = _sha256(path)
    write_card(path, card)
    return path
