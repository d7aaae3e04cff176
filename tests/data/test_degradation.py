"""HR -> LR degradations: the Gaussian blur + subsample against a direct 2-D sum written out
here, modcrop for fractional factors, and ``make_lr`` as the composition it documents."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from superres.degradation.pipelines import (
    bicubic_downscale,
    bicubic_upsample,
    gaussian_blur_downsample,
    get_degradation,
    make_lr,
    modcrop_to_scale,
)
from superres.errors import InvalidArgumentError, UnknownNameError
from superres.ops.resize import imresize_matlab


def _blur_subsample_reference(image: np.ndarray, scale: int, sigma: float) -> np.ndarray:
    """Direct 2-D Gaussian sum over an edge-replicated image, kept where MATLAB's
    imresize(x, 1/s, 'nearest') samples: 1-based u = (k - 0.5) s + 0.5 rounds up to pixel
    floor(u + 0.5), i.e. 0-based s//2 + k s, clamped to the last pixel."""
    radius = max(1, math.ceil(3 * sigma))
    offsets = np.arange(-radius, radius + 1)
    g = np.exp(-(offsets[:, None] ** 2 + offsets[None, :] ** 2) / (2 * sigma**2))
    g /= g.sum()
    padded = np.pad(image, radius, mode="edge")
    h, w = image.shape
    def kept(size: int) -> list[int]:
        return [min(size - 1, math.floor((k + 0.5) * scale + 0.5 + 0.5) - 1) for k in range(math.ceil(size / scale))]

    out = np.empty((len(kept(h)), len(kept(w))))
    for i, y in enumerate(kept(h)):
        for j, x in enumerate(kept(w)):
            out[i, j] = (padded[y : y + 2 * radius + 1, x : x + 2 * radius + 1] * g).sum()
    return out


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_gaussian_blur_downsample_equals_a_direct_sum(scale):
    image = np.random.default_rng(scale).random((19, 26))
    got = gaussian_blur_downsample(torch.from_numpy(image)[None, None], scale)
    want = _blur_subsample_reference(image, scale, 0.4 * scale)
    assert got.shape == (1, 1, *want.shape)
    np.testing.assert_allclose(got[0, 0].numpy(), want, rtol=0, atol=1e-12)
    cropped = torch.from_numpy(image[: 19 - 19 % scale, : 26 - 26 % scale])[None, None]
    assert gaussian_blur_downsample(cropped, scale).shape[-2:] == (19 // scale, 26 // scale)
    sharp = gaussian_blur_downsample(torch.from_numpy(image)[None, None], scale, sigma=0.7)
    np.testing.assert_allclose(sharp[0, 0].numpy(), _blur_subsample_reference(image, scale, 0.7), rtol=0, atol=1e-12)


def test_gaussian_blur_downsample_on_uint8_rounds_half_up_and_keeps_batch_shape():
    image = np.random.default_rng(0).integers(0, 256, (2, 3, 17, 14)).astype(np.uint8)
    got = gaussian_blur_downsample(torch.from_numpy(image), 3)
    assert got.dtype == torch.uint8 and got.shape == (2, 3, 6, 5)
    for b in range(2):
        for c in range(3):
            want = np.floor(_blur_subsample_reference(image[b, c].astype(np.float64), 3, 1.2) + 0.5)
            np.testing.assert_array_equal(got[b, c].numpy(), want.astype(np.uint8))


def test_gaussian_needs_an_integer_scale():
    with pytest.raises(InvalidArgumentError, match="integer scale"):
        gaussian_blur_downsample(torch.rand(1, 1, 8, 8), 2.5)


@pytest.mark.parametrize("scale, multiple", [(2, 2), (3, 3), (4, 4), (2.5, 5), (1.5, 3), (4 / 3, 4)])
def test_modcrop_to_scale_makes_the_lr_size_whole(scale, multiple):
    hr = torch.rand(1, 1, 37, 41)
    cropped = modcrop_to_scale(hr, scale)
    assert cropped.shape[-2:] == (37 - 37 % multiple, 41 - 41 % multiple)
    assert torch.equal(cropped, hr[..., : cropped.shape[-2], : cropped.shape[-1]])
    lr = bicubic_downscale(cropped, scale)
    assert lr.shape[-2] * scale == pytest.approx(cropped.shape[-2]) and lr.shape[-1] * scale == pytest.approx(cropped.shape[-1])


def test_fractional_bicubic_downscale_size_is_rounded_up_and_its_factor_is_exact():
    hr = torch.rand(1, 1, 13, 17, dtype=torch.float64)
    assert bicubic_downscale(hr, 2.5).shape[-2:] == (6, 7)  # ceil(5.2), ceil(6.8)
    # uncropped, the kernel follows the rounded size (MATLAB's imresize(hr, [6 7])), not 1/2.5
    torch.testing.assert_close(bicubic_downscale(hr, 2.5), imresize_matlab(hr, size=(6, 7)), rtol=0, atol=0)
    assert not torch.allclose(bicubic_downscale(hr, 2.5), imresize_matlab(hr, 0.4), atol=1e-3)
    cropped = hr[..., :10, :15]
    # on a modcropped image the size-based call is the factor-based resize
    torch.testing.assert_close(bicubic_downscale(cropped, 2.5), imresize_matlab(cropped, 0.4), rtol=0, atol=1e-12)


@pytest.mark.parametrize("degradation", ["bicubic", "gaussian"])
def test_make_lr_crops_then_degrades(degradation):
    hr = torch.rand(1, 3, 23, 29, dtype=torch.float64)
    for scale in ((2, 3) if degradation == "gaussian" else (2, 3, 2.5)):
        cropped, lr = make_lr(hr, scale, degradation=degradation)
        assert torch.equal(cropped, modcrop_to_scale(hr, scale))
        assert torch.equal(lr, get_degradation(degradation)(cropped, scale))
        assert lr.shape[-2:] == (round(cropped.shape[-2] / scale), round(cropped.shape[-1] / scale))
    with pytest.raises(UnknownNameError):
        get_degradation("jpeg")


def test_bicubic_upsample_by_factor_or_to_size():
    lr = torch.rand(1, 1, 9, 7, dtype=torch.float64)
    torch.testing.assert_close(bicubic_upsample(lr, 3), imresize_matlab(lr, 3.0), rtol=0, atol=0)
    assert bicubic_upsample(lr, 2.5, size=(23, 18)).shape[-2:] == (23, 18)
    # a size other than the factor's own (a modcropped HR's) is the one given
    torch.testing.assert_close(bicubic_upsample(lr, 2.5, size=(22, 17)), imresize_matlab(lr, size=(22, 17)), rtol=0, atol=0)
