"""LearnedMethod: the factor a card without scales runs, any-scale networks from memory, options the factory passes on."""

from __future__ import annotations

import math

import torch

from superres.methods.base import MethodInfo
from superres.methods.learned import LearnedMethod, network_scale
from superres.models.litesr import LiteSR
from superres.models.scn import CascadeSCN

_INFO = MethodInfo(name="probe", family="cnn", summary="random test network")


def test_an_lr_card_without_scales_runs_the_next_integer_factor():
    """Kills: network_scale's default for a card that lists no scales (``ceil(scale)``) replaced
    by a fixed factor: the network would be asked for a factor it was not built for."""
    net = LiteSR(scales=(3,), channels=4, blocks=1)
    for scale in (3.0, 2.5, 2.2):
        assert network_scale(net, {"input": "lr"}, scale) == 3.0
    assert network_scale(net, {"input": "lr"}, 4.0) == 4.0
    assert network_scale(net, {"input": "upsampled"}, 3.0) == 1.0


def test_from_model_serves_any_factor_for_a_network_that_takes_it():
    """Kills: LearnedMethod.from_model ignoring the network's ``any_scale`` (the cascade in
    training validation would then be refused every factor its card does not list)."""
    torch.manual_seed(0)
    cascade = CascadeSCN(atoms=8).eval()
    method = LearnedMethod.from_model(_INFO, cascade, {"scales": [2], "input": "lr"})
    assert method.info.scales is None
    lr = torch.rand(1, 1, 7, 6)
    out = method.upscale(lr, 3)
    assert out.shape[-2:] == (21, 18)
    with torch.no_grad():
        torch.testing.assert_close(out, cascade(lr, 3.0), rtol=1e-5, atol=1e-6)
    # a network without any_scale keeps its card's scales
    lite = LiteSR(scales=(2,), channels=4, blocks=1).eval()
    assert LearnedMethod.from_model(_INFO, lite, {"scales": [2], "input": "lr"}).info.scales == (2.0,)
    assert math.isclose(LearnedMethod.from_model(_INFO, cascade, {"scales": [2]}, any_scale=False).info.scales[0], 2.0)


def test_the_registry_factory_passes_the_self_ensemble_option_on(tmp_path):
    """Kills: learned_method_factory dropping ``self_ensemble`` (``get_method(..., self_ensemble=N)``
    and ``--self-ensemble`` would silently run the card's passes)."""
    from superres.methods.registry import get_method
    from superres.models.vdsr import VDSR
    from superres.weights.store import save_weights

    torch.manual_seed(0)
    path = save_weights(tmp_path / "v.safetensors", VDSR(depth=3, width=4).state_dict(),
                        {"architecture": "vdsr", "model_args": {"depth": 3, "width": 4}, "scales": [2],
                         "input": "upsampled", "method": "vdsr"})
    assert get_method(f"vdsr={path}").ensemble_passes(2) == 1
    assert get_method(f"vdsr={path}", self_ensemble=4).ensemble_passes(2) == 4
