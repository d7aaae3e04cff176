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
    card = {"architecture": "srcnn", "scales": [2.0, 3.0, 4.0], "evaluation": {"results": [{"psnr": 1.0}]}}
    return save_weights(tmp_path / "run" / "best.safetensors", tensors, card), tensors


def test_ship_copies_tensors_and_clears_the_evaluation(trained):
    source, tensors = trained
    entry = load_weights(ship_module.ship(source, "srcnn.test", note="why"))
    assert torch.equal(entry.tensors["conv.weight"], tensors["conv.weight"])
    assert entry.card["name"] == "srcnn.test"
    assert entry.card["evaluation"] == {}
    assert entry.card["scales"] == [2.0, 3.0, 4.0]
    assert entry.card["training"]["notes"] == "why"


def test_ship_can_narrow_the_served_scales(trained):
    source, _ = trained
    entry = load_weights(ship_module.ship(source, "srcnn.x4", scales=[4.0]))
    assert entry.card["scales"] == [4.0]
    assert entry.card["trained_scales"] == [2.0, 3.0, 4.0]


def test_ship_refuses_a_scale_the_weights_were_not_trained_for(trained, capsys):
    source, _ = trained
    with pytest.raises(WeightsError, match="cannot serve"):
        ship_module.ship(source, "srcnn.x5", scales=[5.0])
    assert ship_module.main([str(source), "srcnn.x5", "--scales", "5"]) == 1
    assert capsys.readouterr().err.count("\n") == 1
    assert not (ship_module.SHIPPED_DIR / "srcnn.x5.safetensors").exists()


def test_ship_records_every_earlier_stage_and_totals(trained, tmp_path):
    import json

    source, _ = trained
    card = load_weights(source).card
    card["training"] = {"steps": 30, "wall_time_s": 2.5}
    save_weights(source, load_weights(source).tensors, card)
    first = tmp_path / "first.json"
    first.write_text(json.dumps({"training": {"steps": 100, "wall_time_s": 10.0, "hardware": "cpu"}}))
    entry = load_weights(ship_module.ship(source, "srcnn.staged", earlier=[first]))
    training = entry.card["training"]
    assert training["earlier_stages"] == [{"steps": 100, "wall_time_s": 10.0, "hardware": "cpu"}]
    assert training["total_steps"] == 130
    assert training["total_wall_time_s"] == 12.5
    (tmp_path / "broken.json").write_text("{}")
    with pytest.raises(WeightsError, match="training record"):
        ship_module.ship(source, "srcnn.bad", earlier=[tmp_path / "broken.json"])


def test_continuing_a_shipped_card_keeps_its_own_earlier_stages(trained, tmp_path):
    # Shipping A, then B continued from A, then C continued from B: C's card lists A and B and
    # counts all three, however the chain was written.
    source, _ = trained
    card = load_weights(source).card
    card["training"] = {"steps": 30, "wall_time_s": 2.5, "hardware": "cpu"}
    save_weights(source, load_weights(source).tensors, card)
    first = tmp_path / "a.json"
    first.write_text('{"training": {"steps": 100, "wall_time_s": 10.0, "hardware": "gpu"}}')
    second = ship_module.ship(source, "srcnn.b", earlier=[first])
    entry = load_weights(ship_module.ship(source, "srcnn.c", earlier=[second.with_suffix(".json")]))
    training = entry.card["training"]
    assert [(s["steps"], s["hardware"]) for s in training["earlier_stages"]] == [(100, "gpu"), (30, "cpu")]
    assert all("earlier_stages" not in s and "total_steps" not in s for s in training["earlier_stages"])
    assert training["total_steps"] == 160
    assert training["total_wall_time_s"] == 15.0


def test_shipping_over_a_card_prints_the_evaluations_to_record_again(trained, capsys):
    source, tensors = trained
    old = {
        "method": "vdsr",
        "evaluation": {"results": [
            {"dataset": d, "scale": s, "lr_mode": m, "mean": {"psnr": 30.0}}
            for d, s, m in [("Set5", 2.0, "rgb"), ("BSD100", 2.5, "rgb"), ("Set5", 3.0, "y-float")]
        ]},
    }
    save_weights(ship_module.SHIPPED_DIR / "vdsr.test.safetensors", tensors, old)
    assert ship_module.main([str(source), "vdsr.test"]) == 0
    out = capsys.readouterr().out
    assert "superres evaluate -m vdsr -d BSD100,Set5 -s 2,2.5 --write-card" in out
    assert "superres evaluate -m vdsr -d Set5 -s 3 --lr-mode y-float --write-card" in out
    assert load_weights(ship_module.SHIPPED_DIR / "vdsr.test.safetensors").card["evaluation"] == {}


def test_shipping_a_new_name_prints_no_evaluations(trained, capsys):
    source, _ = trained
    assert ship_module.main([str(source), "srcnn.new"]) == 0
    assert "record it again" not in capsys.readouterr().out


def test_ship_narrowed_scales_are_sorted_and_unique(trained):
    source, _ = trained
    entry = load_weights(ship_module.ship(source, "srcnn.x34", scales=[4.0, 3.0, 4.0]))
    assert entry.card["scales"] == [3.0, 4.0]


def test_evaluations_to_redo_sorts_scales_as_numbers():
    card = {"architecture": "litesr", "evaluation": {"results": [
        {"dataset": d, "scale": s, "mean": {"psnr": 30.0}} for d, s in [("Set5", 10.0), ("Set5", 2.5), ("Set14", 4.0)]]}}
    assert ship_module.evaluations_to_redo(card) == ["superres evaluate -m litesr -d Set14,Set5 -s 2.5,4,10 --write-card"]


@pytest.mark.parametrize("name", ["", ".hidden", "../../escaped", "a/b.c", "srcnn", "srcnn.x2.safetensors", "Srcnn.x2"])
def test_ship_refuses_a_name_that_is_not_one_file_of_the_package(trained, name, capsys):
    source, _ = trained
    with pytest.raises(WeightsError, match="is not a weights name"):
        ship_module.ship(source, name)
    assert ship_module.main([str(source), name]) == 1
    assert capsys.readouterr().err.count("\n") == 1
    assert list(ship_module.SHIPPED_DIR.iterdir()) == []
    assert not (ship_module.SHIPPED_DIR.parent.parent / "escaped.safetensors").exists()


def test_ship_refuses_to_serve_a_scale_another_shipped_file_serves(trained):
    source, _ = trained
    card = load_weights(source).card
    save_weights(source, load_weights(source).tensors, dict(card, method="srcnn-915"))
    ship_module.ship(source, "srcnn-915.291", scales=[2.0, 3.0])
    # a second file for x3 would make the method refuse every scale: refused, nothing written
    with pytest.raises(WeightsError, match=r"srcnn-915.291 already serves srcnn-915 x3"):
        ship_module.ship(source, "srcnn-915.291-v2", scales=[3.0, 4.0])
    assert sorted(p.name for p in ship_module.SHIPPED_DIR.iterdir()) == ["srcnn-915.291.json", "srcnn-915.291.safetensors"]
    ship_module.ship(source, "srcnn-915.291", scales=[3.0])  # over the same name: a replacement
    ship_module.ship(source, "srcnn-915.291-x4", scales=[4.0])  # another scale: fine
