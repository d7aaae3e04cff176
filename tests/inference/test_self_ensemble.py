"""Test-time self-ensemble: the transforms are undone exactly, the cost is counted per pass,
tiling still equals whole-image inference, and a card's ``self_ensemble`` reaches every user."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from superres.cli.main import main
from superres.inference import upscale_tensor
from superres.models.cost import model_cost
from superres.models.ensemble import SelfEnsemble, inference_network


def _dihedral(x: torch.Tensor) -> list[torch.Tensor]:
    """The eight images of ``x`` under the symmetries of the square (on the last two dims)."""
    out = []
    for t in (x, x.transpose(-1, -2)):
        for k in range(4):
            out.append(torch.rot90(t, k, dims=(-2, -1)))
    return out


def _random_net(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(1, 6, 3, padding=1), nn.ReLU(), nn.Conv2d(6, 1, 5, padding=2)).eval()


def _symmetric_net() -> nn.Module:
    """A network that commutes with every flip and transpose: all its kernels are symmetric."""
    net = _random_net(1)
    with torch.no_grad():
        for conv in (net[0], net[2]):
            conv.weight.copy_(torch.stack(_dihedral(conv.weight)).mean(0))
    return net


def test_full_ensemble_commutes_with_every_symmetry():
    ens = SelfEnsemble(_random_net(), 8)
    x = torch.rand(1, 1, 13, 17)  # not square: a transpose mixed up with a flip would change the shape
    base = ens(x)
    with torch.no_grad():
        for tx, tbase in zip(_dihedral(x), _dihedral(base)):
            assert torch.allclose(ens(tx), tbase, atol=1e-6)
    # ...which the network alone does not (the test would pass trivially otherwise)
    net = ens.net
    assert (net(x.transpose(-1, -2)).transpose(-1, -2) - net(x)).abs().max() > 1e-3


def test_two_passes_average_the_image_and_its_transpose():
    net = _random_net()
    x = torch.rand(2, 1, 11, 9)
    expect = (net(x) + net(x.transpose(-1, -2)).transpose(-1, -2)) / 2
    assert torch.allclose(SelfEnsemble(net, 2)(x), expect, atol=1e-6)


@pytest.mark.parametrize("passes", [2, 4, 8])
def test_symmetric_network_is_its_own_ensemble(passes):
    net = _symmetric_net()
    x = torch.rand(1, 1, 10, 14)
    assert torch.allclose(SelfEnsemble(net, passes)(x), net(x), atol=1e-5)


def test_card_asks_for_the_ensemble_and_cost_counts_every_pass(learned):
    single, _ = learned("litesr")
    double, _ = learned("litesr", card={"self_ensemble": 2})
    for scale in (2.0, 3.0):
        m1, card1 = single.model_for_scale(scale)
        m2, card2 = double.model_for_scale(scale)
        assert isinstance(m2, SelfEnsemble) and not isinstance(m1, SelfEnsemble)
        assert double.ensemble_passes(scale) == 2 and single.ensemble_passes(scale) == 1
        assert model_cost(m2, card2, scale).macs_per_pixel == 2 * model_cost(m1, card1, scale).macs_per_pixel
    lr = torch.rand(1, 1, 15, 12)
    out = double.upscale(lr, 3.0)
    expect = (single.upscale(lr, 3.0) + single.upscale(lr.transpose(-1, -2), 3.0).transpose(-1, -2)) / 2
    assert torch.allclose(out, expect, atol=1e-5)
    double.self_ensemble = 1  # the method's option overrides the card
    assert torch.allclose(double.upscale(lr, 3.0), single.upscale(lr, 3.0), atol=1e-6)


@pytest.mark.parametrize("kind, scale", [("litesr", 3.0), ("vdsr", 2.0)])
def test_ensemble_tiled_equals_untiled(learned, kind, scale):
    method, _ = learned(kind, card={"self_ensemble": 2})
    lr = torch.rand(1, 3, 37, 30, generator=torch.Generator().manual_seed(4))
    whole = upscale_tensor(lr, method, scale, tile=10_000)
    tiled = upscale_tensor(lr, method, scale, tile=8)
    assert (whole - tiled).abs().max() < 1e-5


def test_unknown_pass_count_is_refused():
    from superres.errors import InvalidArgumentError

    with pytest.raises(InvalidArgumentError, match="self-ensemble passes"):
        inference_network(_random_net(), {"self_ensemble": 3})


def test_evaluate_will_not_write_an_overridden_ensemble_into_cards(capsys, monkeypatch):
    import superres.evaluation.benchmark as benchmark

    # refused before any evaluation: were the guard lost, this fails at once instead of
    # evaluating and writing into the shipped cards
    monkeypatch.setattr(benchmark, "evaluate", lambda *a, **k: pytest.fail("evaluated despite the refusal"))
    assert main(["evaluate", "-m", "vdsr", "-s", "2", "--self-ensemble", "2", "--write-card"]) != 0
    err = capsys.readouterr().err.strip()
    assert "--self-ensemble" in err and "\n" not in err


class _Recorder(nn.Module):
    """The identity, remembering every input it is given."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[torch.Tensor] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.seen.append(x.clone())
        return x


@pytest.mark.parametrize("passes", [1, 2, 4, 8])
def test_each_pass_sees_a_different_symmetry_and_is_mapped_back(passes):
    net = _Recorder()
    x = torch.rand(1, 1, 5, 7)
    out = SelfEnsemble(net, passes)(x)
    # the identity network: every transform undone exactly gives the input back (up to the sum's rounding)
    torch.testing.assert_close(out, x, rtol=0, atol=1e-6)
    keys = {tuple(t.shape) + tuple(t.flatten().tolist()) for t in net.seen}
    group = {tuple(t.shape) + tuple(t.flatten().tolist()) for t in _dihedral(x)}
    assert len(net.seen) == passes and len(keys) == passes and keys <= group
    assert torch.equal(net.seen[0], x)
    if passes >= 2:
        assert torch.equal(net.seen[1], x.transpose(-1, -2))


def test_inference_network_fuses_and_keeps_the_output():
    from superres.models.layers import RepConv3x3
    from superres.models.litesr import LiteSR

    torch.manual_seed(0)
    model = LiteSR(scales=(2,), channels=8, blocks=2).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.1)
        x = torch.rand(1, 1, 9, 8)
        before = model(x, 2)
        net = inference_network(model, {"self_ensemble": 1})
        reps = [m for m in net.modules() if isinstance(m, RepConv3x3)]
        assert reps and all(m.fused is not None for m in reps)
        torch.testing.assert_close(net(x, 2), before, rtol=0, atol=1e-5)
        ens = inference_network(model, {"self_ensemble": 2})
        assert ens.border == model.border and ens.net is model


def test_the_ensemble_passes_on_what_tiling_and_export_ask_of_its_network():
    from superres.models.scn import CascadeSCN

    net = CascadeSCN(atoms=16, features=8)
    wrapped = SelfEnsemble(net, 2)
    assert wrapped.border == net.border and wrapped.any_scale
    assert wrapped.working_bytes_per_input_pixel(3) == net.working_bytes_per_input_pixel(3)  # the x4 step's
    assert wrapped.export_refusal(3) == net.export_refusal(3) is not None and wrapped.export_refusal(4) is None
