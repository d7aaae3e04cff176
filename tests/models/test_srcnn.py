import math

import numpy as np
import pytest
import torch

from superres.errors import InvalidArgumentError
from superres.models.srcnn import SRCNN


def test_gaussian_init_is_the_papers():
    torch.manual_seed(0)
    model = SRCNN(f1=9, f2=1, f3=5)
    for conv in (model.conv1, model.conv2, model.conv3):
        assert conv.weight.std().item() == pytest.approx(1e-3, rel=0.2)
        assert torch.count_nonzero(conv.bias) == 0


def test_he_init_scales_hidden_layers_by_fan_in():
    torch.manual_seed(0)
    model = SRCNN(f1=9, f2=5, f3=5, init="he")
    assert model.conv1.weight.std().item() == pytest.approx(math.sqrt(2 / 81), rel=0.2)
    assert model.conv2.weight.std().item() == pytest.approx(math.sqrt(2 / (64 * 25)), rel=0.1)
    # the reconstruction layer keeps the paper's small init: the output starts near zero
    assert model.conv3.weight.std().item() == pytest.approx(1e-3, rel=0.2)


def test_unknown_init_is_refused():
    with pytest.raises(InvalidArgumentError, match="init"):
        SRCNN(init="xavier")


def _replicate_conv(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """'same' correlation over an edge-replicated input, as a loop (x: (C, H, W), weight: (O, C, k, k))."""
    k = weight.shape[-1]
    padded = np.pad(x, ((0, 0), (k // 2, k // 2), (k // 2, k // 2)), mode="edge")
    h, w = x.shape[1:]
    out = np.empty((weight.shape[0], h, w))
    for i in range(h):
        for j in range(w):
            out[:, i, j] = np.tensordot(weight, padded[:, i : i + k, j : j + k], axes=3) + bias
    return out


def test_inference_forward_replicates_the_edges_at_every_layer():
    torch.manual_seed(0)
    model = SRCNN(f1=5, f2=3, f3=3, n1=6, n2=4, init="he").double().eval()
    with torch.no_grad():
        model.conv3.weight.normal_(0, 0.2)
        model.conv3.bias.fill_(-0.3)  # some outputs negative: the last layer has no ReLU
        x = torch.rand(1, 1, 11, 9, dtype=torch.float64)
        got = model(x)[0].numpy()
    params = [(c.weight.detach().numpy(), c.bias.detach().numpy()) for c in (model.conv1, model.conv2, model.conv3)]
    h = np.maximum(_replicate_conv(x[0].numpy(), *params[0]), 0)
    h = np.maximum(_replicate_conv(h, *params[1]), 0)
    want = _replicate_conv(h, *params[2])
    assert (want < 0).any()
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


def test_valid_training_output_is_the_interior_of_the_inference_output():
    torch.manual_seed(0)
    model = SRCNN(f1=9, f2=5, f3=5, n1=8, n2=4, init="he").double().eval()
    assert model.border == (9 + 5 + 5 - 3) // 2 == 8
    x = torch.rand(2, 1, 30, 27, dtype=torch.float64)
    with torch.no_grad():
        full = model(x)
        model.padding = "valid"
        valid = model(x)
    b = model.border
    assert full.shape == x.shape and valid.shape == (2, 1, 30 - 2 * b, 27 - 2 * b)
    torch.testing.assert_close(valid, full[..., b:-b, b:-b], rtol=0, atol=1e-12)


def _y_and_colour_of_method(name: str, lr: torch.Tensor, scale: float):
    """``(Y of the method's RGB output, its Cb/Cr)`` for an RGB ``lr``."""
    from superres.methods.registry import get_method
    from superres.ops.color import rgb_to_ycbcr_bt601

    method = get_method(name)
    out = rgb_to_ycbcr_bt601(method.upscale(lr, scale).double())
    return method, out[:, :1], out[:, 1:]


@pytest.mark.parametrize("name, rounds", [("srcnn-955", True), ("vdsr", False)])
def test_shipped_network_sees_the_papers_y_and_cbcr_is_bicubic(name, rounds):
    from superres.ops.color import rgb_to_ycbcr_bt601, round_half_away
    from superres.ops.resize import imresize_matlab

    lr = torch.rand(1, 3, 10, 9, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    ycbcr = rgb_to_ycbcr_bt601(lr)
    y = ycbcr[:, :1]
    rounded = round_half_away(y * 255) / 255
    method, sr_y, sr_cbcr = _y_and_colour_of_method(name, lr, 3)
    torch.testing.assert_close(sr_cbcr, imresize_matlab(ycbcr[:, 1:], 3.0), rtol=0, atol=1e-6)
    # SRCNN's test code rounds Y to 8 bits before the network; VDSR's does not
    want, other = (rounded, y) if rounds else (y, rounded)
    torch.testing.assert_close(sr_y, method.upscale(want, 3).double(), rtol=0, atol=1e-5)
    assert (sr_y - method.upscale(other, 3).double()).abs().max() > 1e-4


def test_two_shipped_weights_for_one_method_and_scale_are_refused(monkeypatch):
    from superres.errors import WeightsError
    from superres.methods import learned

    cards = (("a", {"method": "srcnn-955", "scales": [2, 3]}), ("b", {"method": "srcnn-955", "scales": [3.0]}))
    monkeypatch.setattr(learned, "_shipped_cards", lambda: cards)
    with pytest.raises(WeightsError, match="two shipped weights"):
        learned.weights_for_method("srcnn-955")
    monkeypatch.setattr(learned, "_shipped_cards", lambda: cards[:1] + (("c", {"method": "vdsr", "scales": [3]}),))
    assert learned.weights_for_method("srcnn-955") == {2.0: "a", 3.0: "a"}
