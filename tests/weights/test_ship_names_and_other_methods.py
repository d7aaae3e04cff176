"""``python -m superres.weights.ship``: a weights name's tag starts with a letter or digit
(no empty tag, no ``srcnn.-x``), and only a file of the *same* method serving the same
scale blocks a ship (another method's x2 file does not)."""

from __future__ import annotations

import pytest
import torch

from superres.errors import WeightsError
from superres.weights import ship as ship_module
from superres.weights.store import load_weights, save_weights


@pytest.fixture
def trained(tmp_path, monkeypatch):
    monkeypatch.setattr(ship_module, "SHIPPED_DIR", tmp_path / "shipped")
    (tmp_path / "shipped").mkdir()
    tensors = {"conv.weight": torch.arange(6.0).view(1, 1, 2, 3)}
    card = {"architecture": "srcnn", "scales": [2.0, 3.0, 4.0], "evaluation": {}}
    return save_weights(tmp_path / "run" / "best.safetensors", tensors, card)


@pytest.mark.parametrize("name", ["srcnn.", "srcnn.-x2", "srcnn..x2", "srcnn._x2"])
def test_a_weights_tag_starts_with_a_letter_or_digit(trained, name):
    with pytest.raises(WeightsError, match="is not a weights name"):
        ship_module.ship(trained, name)
    assert list(ship_module.SHIPPED_DIR.iterdir()) == []


def test_another_methods_file_for_the_same_scale_does_not_block_a_ship(trained):
    card = load_weights(trained).card
    save_weights(trained, load_weights(trained).tensors, dict(card, method="srcnn-915"))
    ship_module.ship(trained, "srcnn-915.291", scales=[2.0])
    save_weights(trained, load_weights(trained).tensors, dict(card, method="srcnn-955"))
    shipped = load_weights(ship_module.ship(trained, "srcnn-955.291", scales=[2.0]))
    assert shipped.card["method"] == "srcnn-955" and shipped.card["scales"] == [2.0]


def test_narrowing_refuses_any_scale_the_weights_were_not_trained_for(trained):
    with pytest.raises(WeightsError, match="cannot serve x\\[5.0\\]"):
        ship_module.ship(trained, "srcnn.x45", scales=[4.0, 5.0])
    assert list(ship_module.SHIPPED_DIR.iterdir()) == []


def test_a_note_is_added_to_the_training_record_not_in_place_of_it(trained):
    card = load_weights(trained).card
    save_weights(trained, load_weights(trained).tensors, dict(card, training={"steps": 30, "wall_time_s": 2.5}))
    training = load_weights(ship_module.ship(trained, "srcnn.noted", note="why")).card["training"]
    assert training == {"steps": 30, "wall_time_s": 2.5, "notes": "why"}


def test_an_earlier_card_whose_training_is_not_a_record_is_a_weights_error(trained, tmp_path):
    import json

    for value in ([{"steps": 3}], "100 steps", 5):
        bad = tmp_path / "bad.json"
        bad.write_text(json.dumps({"training": value}))
        with pytest.raises(WeightsError, match="training record"):
            ship_module.ship(trained, "srcnn.bad", earlier=[bad])
    assert list(ship_module.SHIPPED_DIR.iterdir()) == []


def test_evaluations_to_redo_names_the_sets_in_sorted_order():
    sets = ["Urban100", "Set5", "BSD100", "Set14", "Manga109", "DIV2K", "General100", "T91"]
    card = {"method": "litesr-small", "evaluation": {"results": [
        {"dataset": d, "scale": 2.0, "mean": {"psnr": 30.0}} for d in sets]}}
    assert ship_module.evaluations_to_redo(card) == [
        f"superres evaluate -m litesr-small -d {','.join(sorted(sets))} -s 2 --write-card"]
