"""The shipped default network serves fractional factors."""

from __future__ import annotations

import torch

from superres.methods.registry import get_method


def test_shipped_litesr_small_serves_fractional_factors():
    """Kills: networks.litesr_small registered without ``any_scale`` (the default method of
    every scale would then refuse x2.5)."""
    method = get_method("litesr-small")
    assert method.info.scales is None
    method.check_scale(2.5)
    assert method.weights_for_scale(2.5) == method.weights_for_scale(3.0)
    out = method.upscale(torch.rand(1, 1, 6, 5), 2.5)
    assert out.shape[-2:] == (15, 13)
