"""``python -m superres.weights.average``: runs whose cards differ in method, model_args or
input, or whose tensors have different names, are not one network and are refused before
anything is written."""

from __future__ import annotations

import pytest
import torch

from superres.errors import SuperresError, WeightsError
from superres.weights.average import average_weights
from superres.weights.store import load_weights, save_weights


def _run(tmp_path, name, value, **card):
    tensors = {"conv.weight": torch.full((2, 3), float(value)), "conv.bias": torch.tensor([value, 2.0 * value])}
    base = {"architecture": "litesr", "model_args": {"channels": 8}, "method": "litesr-small", "scales": [2.0],
            "input": "lr", "training": {"steps": 10}}
    return save_weights(tmp_path / name / "best.safetensors", tensors, {**base, **card})


@pytest.mark.parametrize("field, value", [("method", "litesr-tiny"), ("model_args", {"channels": 16}),
                                          ("input", "upsampled")])
def test_cards_that_differ_in_what_the_network_is_are_refused(tmp_path, field, value):
    a, b = _run(tmp_path, "a", 1.0), _run(tmp_path, "b", 3.0, **{field: value})
    with pytest.raises(WeightsError, match=f"differ in {field}"):
        average_weights([a, b], tmp_path / "mean.safetensors")
    assert not (tmp_path / "mean.safetensors").exists()
    # the same cards are averaged
    c = _run(tmp_path, "c", 3.0)
    torch.testing.assert_close(load_weights(average_weights([a, c], tmp_path / "ok.safetensors")).tensors["conv.weight"],
                               torch.full((2, 3), 2.0))


def test_tensors_under_other_names_are_refused(tmp_path):
    a = _run(tmp_path, "a", 1.0)
    entry = load_weights(a)
    renamed = {("conv.w" if k == "conv.weight" else k): v for k, v in entry.tensors.items()}
    card = {k: v for k, v in entry.card.items() if k not in ("sha256", "name", "file")}
    b = save_weights(tmp_path / "b" / "best.safetensors", renamed, card)
    with pytest.raises(WeightsError, match="not the same network"):
        average_weights([a, b], tmp_path / "mean.safetensors")
    assert not (tmp_path / "mean.safetensors").exists()


def test_the_mean_is_computed_in_float64_then_stored_in_the_files_dtype(tmp_path):
    # summed in float32, 1e8 + 1 - 1e8 is 0; the exact mean of (1e8, 1, -1e8) is 1/3
    paths = [save_weights(tmp_path / f"r{i}.safetensors", {"w": torch.tensor([v, 3.0])}, {"architecture": "x"})
             for i, v in enumerate((1e8, 1.0, -1e8))]
    mean = load_weights(average_weights(paths, tmp_path / "m.safetensors")).tensors["w"]
    assert mean.dtype == torch.float32
    assert torch.equal(mean, torch.tensor([1.0 / 3.0, 3.0], dtype=torch.float64).float())


def test_an_existing_card_at_the_output_is_not_replaced_without_overwrite(tmp_path):
    a, b = _run(tmp_path, "a", 1.0), _run(tmp_path, "b", 3.0)
    card = tmp_path / "mean.json"
    card.write_text('{"mine": true}')
    with pytest.raises(SuperresError, match="exists"):
        average_weights([a, b], tmp_path / "mean.safetensors")
    assert card.read_text() == '{"mine": true}' and not (tmp_path / "mean.safetensors").exists()
    average_weights([a, b], tmp_path / "mean.safetensors", overwrite=True)
    assert load_weights(tmp_path / "mean.safetensors").card["name"] == "mean"
