"""The interpolation methods (nearest, bilinear, bicubic, lanczos3) are MATLAB imresize with
their own kernel: an image of 8-bit values goes MATLAB's uint8 way (rounded between the
passes and at the end), any other the float way, at the input's precision; the 8-bit
test itself (is_uint8_valued) and each method's receptive radius."""

import pytest
import torch

from superres.methods.interpolation import is_uint8_valued
from superres.methods.registry import get_method
from superres.ops.resize import imresize_matlab

KERNELS = {"nearest": "nearest", "bilinear": "triangle", "bicubic": "bicubic", "lanczos3": "lanczos3"}
ALL_KERNELS = ("nearest", "triangle", "bicubic", "lanczos3", "lanczos2")  # box == nearest when upscaling


def _pixels(seed=0, shape=(1, 3, 9, 11)):
    return torch.randint(0, 256, shape, generator=torch.Generator().manual_seed(seed), dtype=torch.uint8)


def _float(seed=1, shape=(1, 3, 9, 11), dtype=torch.float32):
    return torch.rand(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64).to(dtype)


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_an_8_bit_image_is_resized_as_matlab_resizes_uint8(name):
    pixels = _pixels()
    method = get_method(name)
    assert method.info.name == name
    for scale in (2.0, 3.0):
        want = imresize_matlab(pixels, scale, kernel=KERNELS[name]).to(torch.float32) / 255
        got = method.upscale(pixels.to(torch.float32) / 255, scale)
        assert got.dtype == torch.float32 and torch.equal(got, want)
        # and the uint8 way is not the float way (where the two can differ at all)
        if name != "nearest":
            float_way = imresize_matlab(pixels.to(torch.float32) / 255, scale, kernel=KERNELS[name])
            assert not torch.equal(got, float_way)


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_every_8_bit_level_survives_the_trip_through_float(name):
    # k / 255 in float32 is not always exact: k = round(x * 255), not a truncation, must come back
    levels = torch.arange(256, dtype=torch.uint8).view(1, 1, 16, 16)
    got = get_method(name).upscale(levels.to(torch.float32) / 255, 2)
    want = imresize_matlab(levels, 2.0, kernel=KERNELS[name]).to(torch.float32) / 255
    assert torch.equal(got, want)


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_a_float_image_is_resized_the_float_way_with_the_methods_own_kernel(name):
    lr = _float()
    got = get_method(name).upscale(lr, 3)
    assert torch.equal(got, imresize_matlab(lr, 3.0, kernel=KERNELS[name]))
    for kernel in ALL_KERNELS:
        if kernel != KERNELS[name]:
            assert not torch.allclose(got, imresize_matlab(lr, 3.0, kernel=kernel), rtol=0, atol=1e-4), kernel


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_as_uint8_false_resizes_even_an_8_bit_image_the_float_way(name):
    lr = _pixels().to(torch.float32) / 255
    got = get_method(name, as_uint8=False).upscale(lr, 3)
    assert torch.equal(got, imresize_matlab(lr, 3.0, kernel=KERNELS[name]))


def test_a_float64_8_bit_image_stays_float64():
    lr = _pixels().to(torch.float64) / 255
    got = get_method("bicubic").upscale(lr, 2)
    assert got.dtype == torch.float64
    assert torch.equal(got, imresize_matlab(_pixels(), 2.0).to(torch.float64) / 255)


@pytest.mark.parametrize("first_is_8_bit", [True, False])
def test_a_batch_of_an_8_bit_and_a_float_image_resizes_each_its_own_way(first_is_8_bit):
    eight_bit, other = _pixels(2), _float(3)
    pair = (eight_bit.to(torch.float32) / 255, other) if first_is_8_bit else (other, eight_bit.to(torch.float32) / 255)
    got = get_method("bicubic").upscale(torch.cat(pair), 3)
    want_8 = imresize_matlab(eight_bit, 3.0).to(torch.float32) / 255
    want_f = imresize_matlab(other, 3.0)
    wants = (want_8, want_f) if first_is_8_bit else (want_f, want_8)
    for i, want in enumerate(wants):
        assert torch.equal(got[i : i + 1], want), i


def test_is_uint8_valued():
    k = torch.arange(256, dtype=torch.float64) / 255
    assert is_uint8_valued(k) and is_uint8_valued(k.float())
    assert not is_uint8_valued(torch.tensor([0.0, 256.0], dtype=torch.float64) / 255)  # above 1
    assert not is_uint8_valued(torch.tensor([0.0, -2.0], dtype=torch.float64) / 255)  # below 0
    assert not is_uint8_valued(torch.tensor([100 / 255 + 1e-12], dtype=torch.float64))  # only 8-bit in float32
    assert not is_uint8_valued(torch.tensor([0.5]))


def test_receptive_radius_is_the_kernels_half_width():
    # the LR context a tile needs on each side: 0 for MATLAB's nearest, the kernel's support otherwise
    assert {name: get_method(name).info.receptive_radius for name in KERNELS} == {
        "nearest": 0, "bilinear": 1, "bicubic": 2, "lanczos3": 3}
