"""The image maths refuses what it cannot do right with one-line errors, instead of
a torch traceback or a silently wrong number."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from superres.degradation.pipelines import bicubic_downscale, gaussian_blur_downsample, make_lr
from superres.errors import InvalidArgumentError
from superres.evaluation.metrics import gaussian_window, protocol_metrics, psnr, ssim
from superres.ops.color import rgb_to_y_bt601, round_half_away
from superres.ops.crop import modcrop, shave
from superres.ops.resize import _round_to_uint8_range, imresize_matlab, uint8_compute_dtype


@pytest.mark.parametrize("dtype", [torch.int16, torch.int32, torch.bool])
def test_imresize_refuses_integer_types_other_than_uint8(dtype):
    with pytest.raises(InvalidArgumentError, match="uint8 or float"):
        imresize_matlab(torch.zeros(1, 1, 4, 4, dtype=dtype), 2)


def test_imresize_refuses_empty_images_and_non_tensors():
    with pytest.raises(InvalidArgumentError, match="non-empty"):
        imresize_matlab(torch.zeros(1, 1, 0, 4), 2)
    with pytest.raises(InvalidArgumentError, match="needs a torch tensor, got ndarray"):
        imresize_matlab(np.zeros((4, 4)), 2)
    with pytest.raises(InvalidArgumentError, match="is too small|non-empty|above 1"):
        make_lr(torch.rand(1, 3, 3, 3), 4)  # modcrop leaves nothing


def test_results_never_alias_the_input():
    image = torch.rand(1, 1, 5, 5)
    same_size = imresize_matlab(image, 1)
    assert same_size is not image and torch.equal(same_size, image)
    same_size.zero_()
    assert image.abs().sum() > 0
    gray = torch.rand(1, 1, 4, 4)
    assert rgb_to_y_bt601(gray) is not gray and torch.equal(rgb_to_y_bt601(gray), gray)


@pytest.mark.parametrize("scale", [0, 0.5, 1, -2, "x"])
def test_bicubic_downscale_needs_a_factor_above_1(scale):
    with pytest.raises(InvalidArgumentError, match="scale"):
        bicubic_downscale(torch.rand(1, 1, 8, 8), scale)


@pytest.mark.parametrize("sigma", [0.0, -1.0, float("nan"), float("inf")])
def test_gaussian_blur_needs_a_positive_sigma(sigma):
    with pytest.raises(InvalidArgumentError, match="positive sigma"):
        gaussian_blur_downsample(torch.rand(1, 1, 8, 8), 2, sigma=sigma)


@pytest.mark.parametrize("dtype", [torch.int16, torch.int32])
def test_gaussian_blur_refuses_integer_types_it_would_truncate(dtype):
    with pytest.raises(InvalidArgumentError, match="uint8 or float"):
        gaussian_blur_downsample(torch.zeros(1, 1, 8, 8, dtype=dtype), 2)


def test_gaussian_subsampling_keeps_matlab_nearests_pixels():
    # imresize(x, 1/2, 'nearest') keeps the 2nd, 4th, ... pixel; a constant blur leaves a ramp a ramp
    ramp = torch.arange(8.0).expand(1, 1, 8, 8).contiguous()
    kept = gaussian_blur_downsample(ramp, 2, sigma=0.3)[0, 0, 0]
    torch.testing.assert_close(kept[:3], torch.tensor([1.0, 3.0, 5.0]), rtol=0, atol=1e-6)


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_protocol_metrics_refuse_non_finite_output(bad):
    hr = torch.rand(1, 3, 16, 16)
    sr = hr.clone()
    sr[0, 0, 5, 5] = bad
    with pytest.raises(InvalidArgumentError, match="NaN or infinite"):
        protocol_metrics(sr, hr, shave=2)


def test_protocol_metrics_refuse_other_integer_types_and_channel_counts():
    hr = torch.randint(0, 255, (1, 3, 16, 16), dtype=torch.int16)
    with pytest.raises(InvalidArgumentError, match="uint8 or float"):
        protocol_metrics(hr, hr, shave=2)
    four = torch.rand(1, 4, 16, 16)
    with pytest.raises(InvalidArgumentError, match="1 or 3"):
        protocol_metrics(four, four, shave=2, channel="rgb")


@pytest.mark.parametrize("kwargs", [{"window_size": 0}, {"window_size": -3}, {"sigma": 0.0}, {"data_range": 0}, {"data_range": -1.0}])
def test_ssim_refuses_meaningless_settings(kwargs):
    a = torch.rand(1, 1, 16, 16)
    with pytest.raises(InvalidArgumentError):
        ssim(a, a, **{"data_range": 1.0, **kwargs})


@pytest.mark.parametrize("data_range", [0, -1.0])
def test_psnr_refuses_a_range_that_is_not_positive(data_range):
    a = torch.rand(1, 1, 4, 4)
    with pytest.raises(InvalidArgumentError, match="positive"):
        psnr(a, a * 0.5, data_range=data_range)


def test_crops_refuse_fractional_sizes():
    image = torch.rand(1, 1, 10, 10)
    with pytest.raises(InvalidArgumentError, match="whole number"):
        modcrop(image, 2.5)
    with pytest.raises(InvalidArgumentError, match="whole number"):
        shave(image, 1.7)
    assert modcrop(image, 3.0).shape[-2:] == (9, 9) and shave(image, 2.0).shape[-2:] == (6, 6)


def test_round_half_away_is_exact_next_to_one_half():
    x = torch.tensor([0.49999997, 0.5, 1.5, 2.5, -0.5, -0.49999997, 254.49998], dtype=torch.float32)
    assert round_half_away(x).tolist() == [0.0, 1.0, 2.0, 3.0, -1.0, -0.0, 254.0]


@pytest.mark.parametrize("scale", [2.5, 0.4, (1.5, 2)])
def test_uint8_resizes_by_other_factors_round_as_double_arithmetic_does(scale):
    image = torch.randint(0, 256, (1, 3, 60, 75), generator=torch.Generator().manual_seed(3), dtype=torch.uint8)
    double = imresize_matlab(image, scale, compute_dtype=torch.float64)
    assert torch.equal(imresize_matlab(image, scale), double)


@pytest.mark.parametrize("scale", [1, 65])
def test_gaussian_blur_needs_a_scale_from_2_to_64(scale):
    with pytest.raises(InvalidArgumentError, match="integer scale from 2"):
        gaussian_blur_downsample(torch.rand(1, 1, 8, 8), scale)


def test_gaussian_blur_refuses_an_infinite_sigma():
    with pytest.raises(InvalidArgumentError, match="positive sigma"):
        gaussian_blur_downsample(torch.rand(1, 1, 8, 8), 2, sigma=float("inf"))


def test_ssim_window_size_must_be_an_integer():
    from superres.evaluation.metrics import gaussian_window

    a = torch.rand(1, 1, 16, 16)
    with pytest.raises(InvalidArgumentError, match="positive integer"):
        gaussian_window(7.5)
    with pytest.raises(InvalidArgumentError, match="positive integer"):
        ssim(a, a, data_range=1.0, window_size=7.5)


def test_imresize_refuses_a_zero_width():
    with pytest.raises(InvalidArgumentError, match="non-empty"):
        imresize_matlab(torch.zeros(1, 1, 4, 0), 2)


@pytest.mark.parametrize("scale", [2, 4, 0.5])
def test_uint8_lanczos_rounds_as_double_arithmetic_does_even_at_integer_factors(scale):
    # Lanczos weights are irrational: float32 sums cross .5 ties where MATLAB's double does not
    image = torch.randint(0, 256, (4, 3, 97, 83), generator=torch.Generator().manual_seed(1), dtype=torch.uint8)
    double = imresize_matlab(image, scale, kernel="lanczos3", compute_dtype=torch.float64)
    assert torch.equal(imresize_matlab(image, scale, kernel="lanczos3"), double)


@pytest.mark.parametrize("kernel, scale", [("bilinear", 6), ("bicubic", 6), ("box", 1 / 6)])
def test_uint8_resizes_beyond_the_checked_factors_round_as_double_arithmetic_does(kernel, scale):
    image = torch.randint(0, 256, (2, 3, 61, 67), generator=torch.Generator().manual_seed(2), dtype=torch.uint8)
    double = imresize_matlab(image, scale, kernel=kernel, compute_dtype=torch.float64)
    assert torch.equal(imresize_matlab(image, scale, kernel=kernel), double)


def test_the_resize_commands_memory_estimate_follows_the_arithmetic():
    from superres.cli.resize import check_resize_size

    fits_float32 = dict(height=100, width=100, channels=3, itemsize=1, out_h=300, out_w=300)
    need32 = 3 * (100 * 100 * 4 + 2 * 300 * 300 * 4 + 2 * 300 * 300 * 4 + 300 * 300 * 3)
    need32 += 40 * (300 * 6 + 300 * 6) + 3 * 8 * (6 * 100 + 6 * 300)  # the plans: 6 bicubic taps per sample
    check_resize_size(**fits_float32, max_memory=need32 + 1, kernel="bicubic")  # x3 bicubic: float32
    with pytest.raises(InvalidArgumentError, match="memory budget"):
        check_resize_size(**fits_float32, max_memory=need32 + 1, kernel="lanczos3")  # float64: twice the arithmetic


def test_metric_settings_may_be_numpy_or_tensor_numbers_but_not_flags():
    a = torch.rand(1, 1, 16, 16)
    b = a * 0.5
    reference = psnr(a, b, data_range=1.0)
    assert torch.equal(psnr(a, b, data_range=np.int64(1)), reference)
    assert torch.equal(psnr(a, b, data_range=torch.tensor(1.0)), reference)
    assert torch.equal(ssim(a, b, data_range=1.0, window_size=np.int64(11)), ssim(a, b, data_range=1.0))
    for bad in ({"window_size": True}, {"data_range": True}, {"data_range": float("inf")}, {"data_range": torch.ones(2)}):
        with pytest.raises(InvalidArgumentError):
            ssim(a, b, **{"data_range": 1.0, **bad})


@pytest.mark.parametrize("kernel, scale_h, scale_w, dtype", [
    ("bicubic", 1, 3, torch.float32),        # an unchanged side is exact
    ("cubic", 2, 2, torch.float32),          # aliases are the kernels they name
    ("bilinear", 1 / 4, 1 / 4, torch.float32),
    ("bicubic", 2.0005, 2, torch.float64),   # near a checked factor is not at it
    ("bicubic", 2, 2.5, torch.float64),      # either side decides
    ("lanczos3", 2, 2, torch.float64),
])
def test_uint8_compute_dtype(kernel, scale_h, scale_w, dtype):
    assert uint8_compute_dtype(kernel, scale_h, scale_w) == dtype


def test_float_input_is_resized_in_its_own_dtype():
    image = torch.rand(1, 3, 20, 22, generator=torch.Generator().manual_seed(0))
    assert torch.equal(imresize_matlab(image, 2.5), imresize_matlab(image, 2.5, compute_dtype=torch.float32))


def test_gaussian_blur_takes_the_scale_as_a_numeric_string():
    from superres.degradation.pipelines import gaussian_blur_downsample

    hr = torch.rand(1, 1, 12, 12, generator=torch.Generator().manual_seed(0))
    assert torch.equal(gaussian_blur_downsample(hr, "3.0"), gaussian_blur_downsample(hr, 3))


def test_a_data_range_without_a_value_gets_the_one_line_error():
    a = torch.rand(1, 1, 16, 16)
    with pytest.raises(InvalidArgumentError, match="data_range"):
        ssim(a, a, data_range=torch.tensor(1.0, device="meta"))  # float() raises RuntimeError


def test_a_window_size_may_be_any_integer_like_value():
    class Eleven:
        def __index__(self):
            return 11

    assert torch.equal(gaussian_window(Eleven()), gaussian_window(11))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_the_uint8_store_of_resize_rounds_exactly_next_to_one_half(dtype):
    # floor(x + 0.5) rounds the sum first: the largest value below 0.5 came out as 1
    below_half = torch.nextafter(torch.tensor(0.5, dtype=dtype), torch.tensor(0.0, dtype=dtype))
    values = torch.tensor([-3.0, -0.5, below_half.item(), 0.5, 1.5, 254.5, 255.4, 300.0], dtype=dtype)
    stored = _round_to_uint8_range(values.clone())
    assert stored.tolist() == [0.0, 0.0, 0.0, 1.0, 2.0, 255.0, 255.0, 255.0]
