"""macs_per_output_pixel / model_cost on toy networks: divides by the output pixels of a network
that upsamples itself, hands the scale only to a network fed at LR, measures a float64
network at its own precision, and leaves the network as it found it (train/eval mode,
BatchNorm running statistics)."""

from __future__ import annotations

import torch
from torch import nn

from superres.models.cost import macs_per_output_pixel, model_cost


class _Shuffle(nn.Module):
    """3 -> 3*s*s channels by a 3x3 conv, pixel-shuffled: upsamples by s itself."""

    def __init__(self, s: int = 2):
        super().__init__()
        self.conv = nn.Conv2d(3, 3 * s * s, 3, padding=1)
        self.shuffle = nn.PixelShuffle(s)

    def forward(self, x):
        return self.shuffle(self.conv(x))


class _MultiScale(nn.Module):
    """forward(x, scale): records the scale it is given; cost does not depend on it."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 3, padding=1)
        self.seen = []

    def forward(self, x, scale=None):
        self.seen.append(scale)
        out = self.conv(x)
        return out if scale is None else nn.functional.interpolate(out, scale_factor=scale)


def test_per_output_pixel_for_a_network_that_upsamples_itself():
    # conv on the LR grid: 12 out ch * 3 in ch * 9 taps per LR pixel = 324; 4 HR pixels per LR pixel
    assert macs_per_output_pixel(_Shuffle(2), feed="lr", scale=2, size=16) == 324 / 4


def test_only_a_network_fed_at_lr_is_given_the_scale():
    net = _MultiScale()
    model_cost(net, {"input": "upsampled"}, 3)
    model_cost(net, {}, 3)  # a card without "input" is an upsampled-input network
    macs_per_output_pixel(net, feed="upsampled", scale=3, size=8)  # a scale given with it is not passed on
    assert set(net.seen) == {None}
    net.seen.clear()
    model_cost(net, {"input": "lr"}, 2.5)
    assert set(net.seen) == {3}  # a fractional scale runs the next integer factor's network


def test_a_float64_network_is_measured_in_float64():
    net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.Conv2d(8, 3, 3, padding=1)).double()
    assert macs_per_output_pixel(net, size=8) == 3 * 8 * 9 + 8 * 3 * 9


def test_measuring_leaves_the_mode_and_the_batchnorm_statistics_alone():
    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.Conv2d(4, 3, 1))
    with torch.no_grad():
        net[0].bias.fill_(1.0)  # a non-zero mean for BatchNorm to see
    net.train()
    before = (net[1].running_mean.clone(), net[1].running_var.clone(), int(net[1].num_batches_tracked))
    macs_per_output_pixel(net, size=8)
    assert net.training and all(m.training for m in net.modules())
    assert torch.equal(net[1].running_mean, before[0]) and torch.equal(net[1].running_var, before[1])
    assert int(net[1].num_batches_tracked) == before[2]
    net.eval()
    macs_per_output_pixel(net, size=8)
    assert not net.training
