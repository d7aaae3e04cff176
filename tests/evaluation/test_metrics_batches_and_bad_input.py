"""PSNR is per image in a batch; the protocol refuses NaN/inf outputs and images that are
neither 1 nor 3 channels whatever the metric channel, and quantises a float64 HR in float64
(not in the SR's dtype)."""

from __future__ import annotations

import pytest
import torch

from superres.errors import InvalidArgumentError
from superres.evaluation.metrics import protocol_metrics, psnr, quantize_uint8


def test_psnr_of_a_batch_is_each_images_own():
    g = torch.Generator().manual_seed(0)
    a = torch.rand(3, 1, 16, 16, generator=g)
    b = a + torch.tensor([0.01, 0.05, 0.2]).view(3, 1, 1, 1) * torch.randn(3, 1, 16, 16, generator=g)
    batch = psnr(a, b, data_range=1.0)
    alone = torch.cat([psnr(a[i : i + 1], b[i : i + 1], data_range=1.0) for i in range(3)])
    torch.testing.assert_close(batch, alone, rtol=0, atol=1e-12)
    assert batch[0] > batch[1] > batch[2]


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_a_diverged_output_is_refused_not_scored(bad):
    hr = torch.rand(1, 3, 20, 20, generator=torch.Generator().manual_seed(1))
    sr = hr.clone()
    sr[0, 0, 5, 5] = bad
    with pytest.raises(InvalidArgumentError, match="NaN or infinite"):
        protocol_metrics(sr, hr, shave=2)


@pytest.mark.parametrize("channel", ["y", "y-unrounded", "rgb"])
@pytest.mark.parametrize("channels", [2, 4])
def test_only_one_or_three_channel_images_are_scored(channel, channels):
    x = torch.rand(1, channels, 20, 20, generator=torch.Generator().manual_seed(2))
    with pytest.raises(InvalidArgumentError, match="1 or 3"):
        protocol_metrics(x, x.clone(), shave=2, channel=channel)


def test_a_float64_hr_is_quantised_in_float64_whatever_the_srs_dtype():
    # values just above a .5 tie: float64 rounds them up, their float32 copies often down
    ramp = (torch.arange(0, 255, dtype=torch.float64) + 0.5 + 1e-7) / 255
    hr = ramp.repeat(1, 1, 20, 1)[..., :240].reshape(1, 1, 20, 240)
    sr = torch.rand(1, 1, 20, 240, generator=torch.Generator().manual_seed(3))  # float32
    expected = protocol_metrics(sr, quantize_uint8(hr), shave=2)
    got = protocol_metrics(sr, hr, shave=2)
    assert torch.equal(got[0], expected[0]) and torch.equal(got[1], expected[1])
