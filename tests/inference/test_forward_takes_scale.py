"""forward_takes_scale: which networks take the factor, through the self-ensemble wrapper too."""

from __future__ import annotations

from torch import nn

from superres.models.ensemble import SelfEnsemble, forward_takes_scale
from superres.models.litesr import LiteSR
from superres.models.scn import CascadeSCN
from superres.models.vdsr import VDSR


def test_forward_takes_scale_only_for_networks_that_take_a_factor():
    """Kills: forward_takes_scale counting ``forward(x)`` as taking a factor (``>= 1`` for ``>= 2``),
    which makes export and the cost counter call one-argument networks with a scale."""
    for takes in (LiteSR(scales=(2,), channels=4, blocks=1), CascadeSCN(atoms=4)):
        assert forward_takes_scale(takes) and forward_takes_scale(SelfEnsemble(takes, 2))
    for plain in (VDSR(depth=3, width=4), nn.Conv2d(1, 1, 3)):
        assert not forward_takes_scale(plain) and not forward_takes_scale(SelfEnsemble(plain, 2))
