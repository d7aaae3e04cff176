"""The upscale pipeline's refusals and its 8-bit path: channels, empty images, integer tensors, memory budgets, scales of method objects."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from superres.errors import InvalidArgumentError
from superres.inference import prepare_method, upscale_array, upscale_tensor
from superres.inference.pipeline import OUTPUT_COPIES
from superres.methods.registry import get_method


# The pipeline takes 1 to 4 channels only, whichever path computes it.
#
# 8-bit input to an interpolation method goes through MATLAB's uint8 resize straight
# on the pixels, bypassing the method's own checks, so the pipeline's own channel
# check is the only thing that refuses a 5-channel image there.

@pytest.mark.parametrize("name", ["bicubic", "nearest"])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_five_channel_pixels_are_refused_in_one_line(name, dtype):
    method = prepare_method(name, 2.0, device="cpu")
    with pytest.raises(InvalidArgumentError, match="1 to 4 channels"):
        upscale_array(np.zeros((6, 7, 5), dtype), method, 2.0)


@pytest.mark.parametrize("from_uint8", [False, True])
def test_five_channel_tensors_are_refused_in_one_line(from_uint8):
    method = prepare_method("bicubic", 2.0, device="cpu")
    with pytest.raises(InvalidArgumentError, match="1 to 4 channels"):
        upscale_tensor(torch.zeros(1, 5, 6, 7), method, 2.0, from_uint8=from_uint8)


# An image or batch with no pixels is refused in one line.
#
# ``upscale_array`` with a zero height or width and ``upscale_tensor`` with a zero
# batch, height or width raise InvalidArgumentError saying so, on every compute path
# (the 8-bit interpolation kernel, the float path).

@pytest.mark.parametrize("shape", [(0, 5, 3), (5, 0, 3), (0, 0, 1)])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_empty_pixels_are_refused(shape, dtype):
    method = prepare_method("bicubic", 2.0, device="cpu")
    with pytest.raises(InvalidArgumentError, match="must not be empty"):
        upscale_array(np.zeros(shape, dtype), method, 2.0)


@pytest.mark.parametrize("shape", [(0, 3, 5, 5), (1, 3, 0, 5), (1, 3, 5, 0)])
def test_empty_tensors_are_refused(shape):
    method = prepare_method("bicubic", 2.0, device="cpu")
    with pytest.raises(InvalidArgumentError, match="must not be empty"):
        upscale_tensor(torch.zeros(shape), method, 2.0)


# upscale_tensor takes float tensors in [0, 1] only.
#
# An integer tensor (uint8 pixels not divided by 255) is refused in one line, not
# resized as if its 0..255 values were intensities in [0, 1].

@pytest.mark.parametrize("dtype", [torch.uint8, torch.int64, torch.bool])
def test_integer_tensors_are_refused(dtype):
    method = prepare_method("bicubic", 2.0, device="cpu")
    with pytest.raises(InvalidArgumentError, match="float tensor"):
        upscale_tensor(torch.zeros(1, 3, 6, 7, dtype=dtype), method, 2.0)


# A memory budget smaller than the image's input and output is refused up front.
#
# Before any tile is planned, ``max_memory`` is compared with what the input and
# output arrays alone take; below it (or equal) the error names both figures and
# says how to raise the budget.

@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_upscale_array_refuses_a_budget_its_arrays_alone_exceed(dtype):
    pixels = np.zeros((20, 30, 3), dtype)
    method = prepare_method("bicubic", 2.0, device="cpu")
    fixed = pixels.nbytes + 40 * 60 * 3 * pixels.itemsize * (1 + OUTPUT_COPIES)
    for budget in (1, int(fixed)):
        with pytest.raises(InvalidArgumentError, match="input and output alone"):
            upscale_array(pixels, method, 2.0, max_memory=budget)


def test_upscale_tensor_refuses_a_budget_its_tensors_alone_exceed():
    method = prepare_method("bicubic", 2.0, device="cpu")
    lr = torch.zeros(1, 3, 20, 30)
    fixed = lr.numel() * 4 + 3 * 40 * 60 * 4  # float32 input and output of one image
    for budget in (1000, fixed - 1000, fixed):  # below the input; above it, below input + output
        with pytest.raises(InvalidArgumentError, match="input and output alone"):
            upscale_tensor(lr, method, 2.0, max_memory=budget)


# prepare_method checks the scale of a method object too.
#
# A method given as an object is returned as it is, but a scale it cannot do is
# refused up front, as for a method given by name.

@pytest.mark.parametrize("scale", [1.0, 0.5, 65.0])
def test_a_method_object_with_a_scale_it_cannot_do_is_refused(scale):
    method = get_method("bicubic")
    with pytest.raises(InvalidArgumentError):
        prepare_method(method, scale)
    with pytest.raises(InvalidArgumentError):
        prepare_method("bicubic", scale)


def test_a_method_object_is_returned_as_it_is():
    method = get_method("bicubic")
    assert prepare_method(method, 2.0) is method


# upscale_tensor(from_uint8=True) processes the tensor as the 8-bit image it holds.
#
# An 8-bit image given as float (pixels / 255) with ``from_uint8=True`` gives exactly
# what :func:`upscale_array` gives for the uint8 pixels (MATLAB's uint8 resize,
# rounding between passes), colour and alpha alike; without the flag the float
# values are resized as they are, which differs.

@pytest.mark.parametrize("channels", [3, 4])
def test_from_uint8_equals_the_uint8_pipeline(channels):
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, size=(13, 11, channels), dtype=np.uint8)
    method = prepare_method("bicubic", 3.0, device="cpu")
    want = upscale_array(pixels, method, 3.0).astype(np.float32)
    lr = torch.from_numpy(pixels).permute(2, 0, 1)[None].float() / 255
    got = upscale_tensor(lr, method, 3.0, from_uint8=True)[0].permute(1, 2, 0).numpy() * 255
    np.testing.assert_allclose(got, want, atol=1e-3)
    floaty = upscale_tensor(lr, method, 3.0)[0].permute(1, 2, 0).numpy() * 255
    assert np.abs(floaty - want).max() > 0.1  # the flag is what makes the difference


# A 16-bit image whose values all happen to be multiples of 257 is 8-bit valued once
# divided by 65535; it is still resized at 16-bit precision, not rounded between the
# bicubic passes as MATLAB's uint8 resize does (tiling.with_uint8_mode, for the whole image).

def test_a_16_bit_image_of_8_bit_values_keeps_16_bit_precision():
    rng = np.random.default_rng(3)
    pixels = (rng.integers(0, 256, (9, 11, 3)) * 257).astype(np.uint16)
    out = upscale_array(pixels, prepare_method("bicubic", 3), 3)
    float_path = prepare_method(get_method("bicubic", as_uint8=False), 3)
    np.testing.assert_array_equal(out, upscale_array(pixels, float_path, 3))
    assert (out % 257 != 0).any()
