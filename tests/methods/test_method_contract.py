"""The SRMethod contract: what ``upscale`` refuses, scale 1, and methods that cannot be built here."""

from __future__ import annotations

import pytest
import torch

from superres.errors import InvalidArgumentError
from superres.methods import registry
from superres.methods.registry import get_method, list_methods


def test_upscale_refuses_integer_and_2_or_4_channel_images():
    method = get_method("bicubic")
    with pytest.raises(InvalidArgumentError, match="float"):
        method.upscale(torch.zeros(1, 3, 4, 4, dtype=torch.uint8), 2)
    for channels in (2, 4):
        with pytest.raises(InvalidArgumentError, match="1 or 3 channels"):
            method.upscale(torch.zeros(1, channels, 4, 4), 2)


def test_scales_are_above_1_and_at_most_64():
    x = torch.rand(1, 3, 5, 6)
    method = get_method("bicubic")
    for bad in (1, 1.0, 0.5, 64.001, True, "x"):
        with pytest.raises(InvalidArgumentError, match="scale"):
            method.upscale(x, bad)
    assert method.upscale(x, 1.2).shape[-2:] == (6, 8) and method.upscale(x, 64).shape[-2:] == (320, 384)


def test_list_methods_leaves_out_a_method_that_cannot_be_built(monkeypatch):
    monkeypatch.setitem(registry.METHODS, "broken", "superres.no_such_module:factory")
    names = [info.name for info in list_methods()]
    assert "broken" not in names and "bicubic" in names
    assert "no_such_module" in registry.unavailable_methods()["broken"]


def test_a_scale_that_is_not_a_number_is_called_so():
    from superres.methods.base import checked_scale

    for bad in (float("nan"), "nan", True, False, None, "x"):
        with pytest.raises(InvalidArgumentError, match="scale must be"):
            checked_scale(bad)
    for flag in (True, False):  # float(True) is 1.0: a flag where the factor goes is not "scale 1"
        with pytest.raises(InvalidArgumentError, match="must be a number"):
            checked_scale(flag)
    assert checked_scale("2.5") == 2.5 and checked_scale(64) == 64.0
