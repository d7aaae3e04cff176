"""Image maths keeps to its input's device: constants (colour matrices, blur and SSIM
kernels, resize indices) are made there, so a method on a GPU never meets a CPU tensor.

No GPU is needed to check it: a tensor on torch's ``meta`` device has shapes and no data,
and any operation that mixes it with a CPU tensor raises, as a CUDA tensor would.
"""

from __future__ import annotations

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

from superres.degradation.pipelines import bicubic_downscale, gaussian_blur_downsample
from superres.evaluation.metrics import psnr, ssim
from superres.methods.base import MethodInfo, YChannelMethod
from superres.ops.color import rgb_to_y_bt601, rgb_to_ycbcr_bt601, ycbcr_bt601_to_rgb
from superres.ops.resize import imresize_matlab

META = torch.device("meta")


def _meta(*shape: int) -> torch.Tensor:
    return torch.empty(*shape, device=META)


def test_colour_conversions_run_on_the_inputs_device():
    rgb = _meta(2, 3, 8, 6)
    for out in (rgb_to_ycbcr_bt601(rgb), ycbcr_bt601_to_rgb(rgb), rgb_to_y_bt601(rgb)):
        assert out.device == META
    assert rgb_to_ycbcr_bt601(torch.empty(1, 3, 4, 4, dtype=torch.uint8, device=META)).device == META


def test_resizes_and_degradations_run_on_the_inputs_device():
    image = _meta(2, 3, 24, 20)
    assert imresize_matlab(image, 2.5).shape == (2, 3, 60, 50) and imresize_matlab(image, 2.5).device == META
    assert bicubic_downscale(image, 2).device == META
    blurred = gaussian_blur_downsample(image, 2)
    assert blurred.device == META and blurred.shape == (2, 3, 12, 10)


def test_metrics_run_on_the_inputs_device():
    a, b = _meta(2, 1, 16, 16), _meta(2, 1, 16, 16)
    assert psnr(a, b, data_range=1.0).device == META
    assert ssim(a, b, data_range=1.0).device == META


class _BicubicY(YChannelMethod):
    info = MethodInfo(name="bicubic-y", family="interpolation", summary="test", channels="y")

    def upscale_y(self, y: torch.Tensor, scale: float) -> torch.Tensor:
        return imresize_matlab(y, scale)


def test_a_y_channel_method_takes_rgb_on_the_inputs_device():
    # the path every learned model runs for colour images: RGB -> YCbCr, Y through the
    # method, Cb/Cr by bicubic, back to RGB
    out = _BicubicY().upscale(_meta(2, 3, 10, 12), 2)
    assert out.device == META and out.shape == (2, 3, 20, 24)


class _OneDevice(TorchDispatchMode):
    """Fails any op whose tensor arguments sit on two devices (0-dim scalars aside), as CUDA
    does: on the meta device alone, einsum, bmm, conv2d and index_select take a CPU operand
    without complaint."""

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        devices = {t.device for t in tree_flatten((args, kwargs))[0] if isinstance(t, torch.Tensor) and t.dim() > 0}
        assert len(devices) <= 1, f"{func} mixes {devices}"
        return func(*args, **kwargs)


def test_no_op_mixes_a_cpu_constant_with_the_input():
    rgb = _meta(2, 3, 24, 20)
    with _OneDevice():
        rgb_to_ycbcr_bt601(rgb)
        ycbcr_bt601_to_rgb(rgb)
        imresize_matlab(rgb, 2.5)
        gaussian_blur_downsample(rgb, 2)
        ssim(rgb[:, :1], rgb[:, :1], data_range=1.0)
        _BicubicY().upscale(rgb, 2)
