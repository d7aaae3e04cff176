"""save_weights, load_weights and model_from_weights: names, cards, layouts, unreadable and ill-fitting files."""

from __future__ import annotations

import hashlib
import json
import pytest
import torch
from superres.errors import WeightsError
from superres.models.registry import build_model, model_from_weights
from superres.weights.store import SHIPPED_DIR, load_weights, read_card, save_weights, shipped_weight_names, weights_path


# save_weights keeps a dotted ``arch.tag`` name whole.
#
# Weights are named ``arch.tag`` (``scn.291-x2``, ``srcnn-955.291-x3``), so the
# part after the last dot of an output path is the tag, not a file extension:
# ``save_weights("scn.291-x2")`` must write ``scn.291-x2.safetensors``, not
# ``scn.safetensors`` -- which would drop the tag from the file and card name
# and let a second output (``scn.291-x3``) silently replace the first.

def test_a_dotted_weights_name_keeps_its_tag(tmp_path):
    path = save_weights(tmp_path / "scn.291-x2", {"w": torch.zeros(2)}, {})
    assert path == tmp_path / "scn.291-x2.safetensors" and path.is_file()
    assert read_card(path)["name"] == "scn.291-x2"


def test_two_tags_of_one_architecture_are_two_files(tmp_path):
    a = save_weights(tmp_path / "scn.291-x2", {"w": torch.zeros(2)}, {})
    b = save_weights(tmp_path / "scn.291-x3", {"w": torch.ones(2)}, {})
    assert a != b
    assert torch.equal(load_weights(a).tensors["w"], torch.zeros(2))
    assert torch.equal(load_weights(b).tensors["w"], torch.ones(2))


def test_a_torch_checkpoint_suffix_is_still_replaced(tmp_path):
    assert save_weights(tmp_path / "w.pt", {"w": torch.zeros(2)}, {}) == tmp_path / "w.safetensors"


# save_weights fills in name, file and sha256 on its own copy of the card.
#
# The caller's dict is left as it was, so one card dict saved twice (a run's
# ``last`` and ``best``) gives each file its own name, file and sha256.

def test_the_card_passed_in_is_not_changed(tmp_path):
    card = {"architecture": "srcnn"}
    save_weights(tmp_path / "a.safetensors", {"w": torch.zeros(2)}, card)
    assert card == {"architecture": "srcnn"}


def test_one_card_dict_saved_twice_names_each_file_after_itself(tmp_path):
    card = {"architecture": "srcnn"}
    a = save_weights(tmp_path / "last.safetensors", {"w": torch.zeros(2)}, card)
    b = save_weights(tmp_path / "best.safetensors", {"w": torch.ones(2)}, card)
    assert read_card(a)["name"] == "last" and read_card(b)["name"] == "best"
    assert read_card(b)["file"] == "best.safetensors"
    assert read_card(a)["sha256"] != read_card(b)["sha256"]


# save_weights writes tensors of any layout and device exactly.
#
# A network's state dict may hold non-contiguous views (a transposed or sliced
# tensor, channels-last weights) and tensors that require grad; each is written
# and read back element for element.

def test_non_contiguous_and_grad_tensors_round_trip_exactly(tmp_path):
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    tensors = {
        "t": base.t(),
        "s": base[:, ::2],
        "cl": torch.rand(2, 3, 4, 5).to(memory_format=torch.channels_last),
        "g": torch.nn.Parameter(torch.rand(3)),
    }
    path = save_weights(tmp_path / "w.safetensors", tensors, {})
    back = load_weights(path).tensors
    assert back.keys() == tensors.keys()
    for key, value in tensors.items():
        assert torch.equal(back[key], value.detach()), key


# A shipped weights name resolves to the shipped file, whatever lies in the working folder.
#
# ``weights_path("vdsr.291")`` is the package's file even when the current folder
# holds a file called ``vdsr.291``; only a ``.safetensors`` path names a file of one's own.

def test_a_shipped_name_is_not_shadowed_by_a_file_in_the_working_folder(tmp_path, monkeypatch):
    names = shipped_weight_names()
    if not names:
        pytest.skip("no weights shipped")
    name = names[0]
    monkeypatch.chdir(tmp_path)
    (tmp_path / name).write_bytes(b"not weights")
    assert weights_path(name) == SHIPPED_DIR / f"{name}.safetensors"


# A .safetensors file that safetensors cannot read is one WeightsError.
#
# The sha256 check only says the file is the one the card describes; a card written
# for a file that was never safetensors (a renamed pickle checkpoint, a truncated
# download hashed after the fact) must still end in a clear error, not a raw
# safetensors exception.

@pytest.mark.parametrize("content", [b"\x80\x04K\x01.", b"", b"\x10\x00\x00\x00\x00\x00\x00\x00{\"a\":1}"],
                         ids=["pickle", "empty", "bad-header"])
@pytest.mark.parametrize("verify", [True, False])
def test_a_file_safetensors_cannot_read_is_one_weights_error(tmp_path, content, verify):
    path = tmp_path / "w.safetensors"
    path.write_bytes(content)
    card = {"name": "w", "architecture": "srcnn", "model_args": {}, "sha256": hashlib.sha256(content).hexdigest()}
    path.with_suffix(".json").write_text(json.dumps(card))
    with pytest.raises(WeightsError, match="cannot read weights"):
        load_weights(path, verify=verify)
    with pytest.raises(WeightsError, match="cannot read weights"):
        model_from_weights(str(path))


# A weights file whose tensors do not fit its card's network is one WeightsError.
#
# The network is rebuilt from the card's ``architecture`` and ``model_args`` and the
# tensors must fill it exactly: a missing tensor, an extra one or one of another
# shape is refused, never loaded partly (a half-random network); the network comes
# back in eval mode.

CARD = {"architecture": "srcnn", "model_args": {}, "scales": [3], "input": "upsampled", "method": "srcnn-915"}


def _save(tmp_path, tensors):
    return str(save_weights(tmp_path / "s.safetensors", tensors, CARD))


def test_exact_tensors_load_and_the_network_is_in_eval_mode(tmp_path):
    state = build_model("srcnn").state_dict()
    model, _ = model_from_weights(_save(tmp_path, state))
    assert not any(m.training for m in model.modules())
    for key, value in model.state_dict().items():
        assert torch.equal(value, state[key])


@pytest.mark.parametrize("change", ["missing", "extra", "shape"])
def test_tensors_that_do_not_fill_the_card_s_network_are_refused(tmp_path, change):
    state = dict(build_model("srcnn").state_dict())
    first = next(iter(state))
    if change == "missing":
        del state[first]
    elif change == "extra":
        state["bogus.weight"] = torch.zeros(3)
    else:
        state[first] = torch.zeros(*state[first].shape[:-1], state[first].shape[-1] + 2)
    with pytest.raises(WeightsError, match="weights do not fit srcnn"):
        model_from_weights(_save(tmp_path, state))
