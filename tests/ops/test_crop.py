"""modcrop and shave: the SR protocol's crops (top-left kept, borders removed on every side)."""

from __future__ import annotations

import pytest
import torch

from superres.errors import InvalidArgumentError
from superres.ops.crop import modcrop, shave


def test_modcrop_keeps_the_top_left_multiple_of_the_scale():
    x = torch.arange(2 * 35).view(2, 1, 5, 7)
    assert torch.equal(modcrop(x, 2), x[..., :4, :6])
    assert torch.equal(modcrop(x, 3), x[..., :3, :6])
    assert torch.equal(modcrop(x, 1), x)


def test_shave_removes_the_border_on_every_side():
    x = torch.arange(6 * 8).view(1, 1, 6, 8)
    assert torch.equal(shave(x, 2), x[..., 2:4, 2:6])
    assert shave(x, 0) is x


@pytest.mark.parametrize("call", [lambda x: modcrop(x, 0), lambda x: shave(x, -1), lambda x: shave(x, 3)])
def test_bad_crops_raise(call):
    with pytest.raises(InvalidArgumentError):
        call(torch.zeros(1, 1, 6, 8))
