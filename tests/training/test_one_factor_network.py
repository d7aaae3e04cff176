"""A plug-in sub-pixel network whose forward takes the image alone (one fixed factor).

Such a network trains, validates and upscales like the shipped ones: the factor is passed
only to a forward that takes it (models.ensemble.forward_takes_scale).
"""

from __future__ import annotations

import textwrap

import torch

from superres.methods.base import MethodInfo
from superres.methods.learned import LearnedMethod
from superres.models import registry
from superres.training.config import load_config
from superres.training.trainer import Trainer

from conftest import write_recipe

_MODULE = textwrap.dedent('''
    import torch
    from torch import nn

    class OneFactorShuffle(nn.Module):
        """x2 sub-pixel network: forward(x), no factor."""

        def __init__(self, channels: int = 4) -> None:
            super().__init__()
            self.body = nn.Sequential(nn.Conv2d(1, channels, 3, padding=1, padding_mode="replicate"), nn.ReLU(),
                                      nn.Conv2d(channels, 4, 3, padding=1, padding_mode="replicate"))
            self.border = 2

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.nn.functional.pixel_shuffle(self.body(x), 2)
''')


def test_a_network_without_a_factor_argument_trains_and_upscales(tmp_path, synthetic_images, monkeypatch):
    (tmp_path / "plugin").mkdir()
    (tmp_path / "plugin" / "one_factor_net.py").write_text(_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path / "plugin"))
    monkeypatch.setitem(registry.MODELS, "one-factor", "one_factor_net:OneFactorShuffle")
    monkeypatch.setenv("SUPERRES_CACHE", str(tmp_path / "cache"))
    recipe = write_recipe(tmp_path / "r.toml", synthetic_images, steps=30, architecture="one-factor",
                          args="{ channels = 4 }", val_every=30, lr=3e-3)
    Trainer(load_config(recipe, []), tmp_path / "run", progress=False).train()
    rows = (tmp_path / "run" / "log.csv").read_text().splitlines()
    assert len(rows) > 2  # header, the logged steps and the validation

    best = tmp_path / "run" / "best.safetensors"
    method = LearnedMethod(MethodInfo(name="one-factor", family="cnn", summary="test"), {2.0: str(best)})
    y = torch.rand(1, 1, 9, 11)
    out = method.upscale_y(y, 2)
    model, _ = method.model_for_scale(2)
    with torch.no_grad():
        expected = model(y)
    assert out.shape == (1, 1, 18, 22)
    torch.testing.assert_close(out, expected)
