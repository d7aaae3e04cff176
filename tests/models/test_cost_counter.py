"""The cost counter on cases the model tests do not reach: buffers, RGB networks, F.linear, fractional scales."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from superres.models.cost import count_macs, count_parameters, macs_per_output_pixel, model_cost


def test_buffers_are_not_parameters():
    net = nn.Conv2d(1, 1, 3)
    net.register_buffer("kernel", torch.ones(10))
    assert count_parameters(net) == 9 + 1


def test_an_rgb_network_is_measured_on_an_rgb_input():
    assert macs_per_output_pixel(nn.Conv2d(3, 8, 3, padding=1)) == 8 * 3 * 9


def test_functional_linear_counts_in_features():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(torch.zeros(5, 12))

        def forward(self, x):
            return F.linear(x, self.weight)

    assert count_macs(Net(), torch.zeros(1, 4, 10, 12)) == 4 * 10 * 5 * 12


def test_a_fractional_scale_costs_what_the_network_it_runs_costs():
    from superres.models.registry import build_model

    model = build_model("litesr", scales=[2, 3, 4], channels=8, blocks=1)
    card = {"input": "lr"}
    assert model_cost(model, card, 2.5) == model_cost(model, card, 3)
    assert model_cost(model, card, 2.5) != model_cost(model, card, 2)
