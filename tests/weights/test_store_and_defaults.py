"""Weights files and cards on disk, the default method per scale, card results order."""

from __future__ import annotations

import json
import os

import pytest
import torch

from superres.errors import InvalidArgumentError, WeightsError
from superres.weights import cards, defaults
from superres.weights.store import read_card, save_weights, write_card


def test_save_weights_keeps_a_given_name_and_fixes_the_suffix(tmp_path):
    path = save_weights(tmp_path / "w.pt", {"w": torch.zeros(2)}, {"name": "custom"})
    assert path == tmp_path / "w.safetensors" and path.is_file()
    card = read_card(path)
    assert card["name"] == "custom" and card["file"] == "w.safetensors"
    assert read_card(save_weights(tmp_path / "v.safetensors", {"w": torch.zeros(2)}, {}))["name"] == "v"


def test_a_card_is_replaced_not_written_in_place(tmp_path):
    path = save_weights(tmp_path / "w.safetensors", {"w": torch.zeros(2)}, {"name": "w"})
    other = tmp_path / "other.json"
    os.link(path.with_suffix(".json"), other)  # another name for the same file
    before = other.read_text()
    write_card(path, dict(read_card(path), notes="new"))
    assert read_card(path)["notes"] == "new" and other.read_text() == before


def test_an_invalid_card_is_a_weights_error(tmp_path):
    path = save_weights(tmp_path / "w.safetensors", {"w": torch.zeros(2)}, {"name": "w"})
    path.with_suffix(".json").write_text("{not json")
    with pytest.raises(WeightsError, match="invalid JSON"):
        read_card(path)


def _srcnn_weights(tmp_path, **card_changes):
    """A random SRCNN's weights with a valid sha256, its card then changed by ``card_changes``
    (None: the key removed)."""
    from superres.models.registry import build_model

    path = save_weights(tmp_path / "s.safetensors", build_model("srcnn").state_dict(),
                        {"architecture": "srcnn", "model_args": {}, "scales": [3], "input": "upsampled", "method": "srcnn-915"})
    card = read_card(path)
    for key, value in card_changes.items():
        card.pop(key) if value is None else card.__setitem__(key, value)
    write_card(path, card)
    return path


@pytest.mark.parametrize("changes, message", [
    (dict(architecture="vdsr", model_args={"f1": 9}), "model_args do not fit vdsr"),
    (dict(model_args={"bogus": 1}), "model_args do not fit srcnn"),
    (dict(architecture=None), "needs 'architecture'"),
    (dict(model_args=[1, 2]), "needs 'architecture'"),
    (dict(architecture="no-such-net"), "unknown architecture"),
    (dict(sha256=None), "records no sha256"),
])
def test_a_card_that_does_not_describe_its_weights_is_one_weights_error(tmp_path, changes, message):
    from superres.errors import SuperresError
    from superres.models.registry import model_from_weights

    path = _srcnn_weights(tmp_path, **changes)
    with pytest.raises(SuperresError, match=message):
        model_from_weights(str(path))


@pytest.mark.parametrize("content, message", [(b"[1, 2]", "JSON object, not list"), (b"\xff\xfe{}", "not UTF-8")])
def test_a_card_that_is_no_json_object_is_a_weights_error(tmp_path, content, message):
    path = _srcnn_weights(tmp_path)
    path.with_suffix(".json").write_bytes(content)
    with pytest.raises(WeightsError, match=message):
        read_card(path)


def test_an_unlisted_scale_uses_the_next_larger_listed_one(monkeypatch):
    monkeypatch.setattr(defaults, "DEFAULT_METHOD_BY_SCALE", {2: "two", 3: "three", 4: "four"})
    assert [defaults.default_method_for_scale(s) for s in (1.5, 2, 2.5, 3, 3.5, 4, 6)] == [
        "two", "two", "three", "three", "four", "four", "four"]
    with pytest.raises(InvalidArgumentError, match="give a scale"):
        defaults.default_method_for_scale(None)


def test_card_results_are_kept_sorted_by_mode_scale_and_set(tmp_path, monkeypatch):
    save_weights(tmp_path / "net.safetensors", {"w": torch.zeros(1)}, {"name": "net"})
    monkeypatch.setattr(cards, "SHIPPED_DIR", tmp_path)
    monkeypatch.setattr(cards, "weights_serving", lambda method, scale: "net")
    runs = [{"method": "net", "dataset": d, "scale": s, "lr_mode": m}
            for m, s, d in [("y-float", 2.0, "Set5"), ("rgb", 3.0, "Set5"), ("rgb", 2.0, "Set5"), ("rgb", 2.0, "BSD100")]]
    cards.record_evaluation(runs, "cmd")
    results = json.loads((tmp_path / "net.json").read_text())["evaluation"]["results"]
    assert [(r["lr_mode"], r["scale"], r["dataset"]) for r in results] == [
        ("rgb", 2.0, "BSD100"), ("rgb", 2.0, "Set5"), ("rgb", 3.0, "Set5"), ("y-float", 2.0, "Set5")]
