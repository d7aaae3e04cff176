import pytest
import torch

from superres.errors import WeightsError
from superres.weights.average import average_weights, main
from superres.weights.store import load_weights, save_weights


def _run(tmp_path, name, value, arch="litesr", shape=(2, 3)):
    tensors = {"conv.weight": torch.full(shape, float(value)), "conv.bias": torch.tensor([value, 2.0 * value])}
    card = {"architecture": arch, "training": {"steps": int(value * 10)}, "evaluation": {"results": [1]}}
    return save_weights(tmp_path / name / "best.safetensors", tensors, card)


def test_mean_of_two_runs_and_its_card(tmp_path):
    a, b = _run(tmp_path, "a", 1.0), _run(tmp_path, "b", 4.0)
    entry = load_weights(average_weights([a, b], tmp_path / "mean.safetensors"))
    torch.testing.assert_close(entry.tensors["conv.weight"], torch.full((2, 3), 2.5))
    torch.testing.assert_close(entry.tensors["conv.bias"], torch.tensor([2.5, 5.0]))
    assert [s["steps"] for s in entry.card["training"]["averaged_from"]] == [10, 40]
    assert entry.card["training"]["steps"] == 40  # the last source's record
    assert entry.card["evaluation"] == {}


def test_different_networks_are_refused_in_one_line(tmp_path, capsys):
    a = _run(tmp_path, "a", 1.0)
    with pytest.raises(WeightsError, match="same network"):
        average_weights([a, _run(tmp_path, "c", 1.0, arch="vdsr")], tmp_path / "x.safetensors")
    with pytest.raises(WeightsError, match="shape"):
        average_weights([a, _run(tmp_path, "d", 1.0, shape=(3, 2))], tmp_path / "x.safetensors")
    assert main([str(a), "-o", str(tmp_path / "y.safetensors")]) == 1
    assert capsys.readouterr().err.count("\n") == 1
    assert not (tmp_path / "x.safetensors").exists()
