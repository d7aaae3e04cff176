"""``count_macs``: a counted layer that runs another counted layer inside it (a wrapper
subclass of ``nn.Conv2d``) is counted once, by the outer one."""

from __future__ import annotations

import torch
from torch import nn

from superres.models.cost import count_macs


class _WrappedConv(nn.Conv2d):
    """A Conv2d whose work is done by an inner Conv2d of the same shape."""

    def __init__(self) -> None:
        super().__init__(2, 4, 3, padding=1)
        self.inner = nn.Conv2d(2, 4, 3, padding=1)

    def forward(self, x):
        return self.inner(x)


def test_a_layer_inside_a_counted_layer_is_not_counted_twice():
    x = torch.zeros(1, 2, 8, 8)
    plain = count_macs(nn.Conv2d(2, 4, 3, padding=1), x)
    assert plain == 8 * 8 * 4 * 2 * 9
    assert count_macs(_WrappedConv(), x) == plain
    assert count_macs(nn.Sequential(_WrappedConv(), nn.ReLU(), nn.Conv2d(4, 1, 1)), x) == plain + 8 * 8 * 4
