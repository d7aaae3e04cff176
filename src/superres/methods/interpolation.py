"""Interpolation baselines, all through the MATLAB-exact :func:`imresize_matlab`.

``bicubic`` is the baseline of every SR table and the pre-upsampling of
SRCNN, VDSR and SCN.  ``nearest`` and ``bilinear`` are MATLAB's box and
triangle kernels; ``lanczos3`` is MATLAB's lanczos3.
"""

from __future__ import annotations

import torch

from superres.methods.base import MethodInfo, SRMethod, each_image
from superres.ops.resize import imresize_matlab

__all__ = ["InterpolationMethod", "is_uint8_valued"]

_SUMMARIES = {
    "nearest": ("nearest", "nearest neighbour (MATLAB box kernel, no antialiasing)", 0),
    "bilinear": ("triangle", "bilinear (MATLAB triangle kernel)", 1),
    "bicubic": ("bicubic", "bicubic, Keys a = -0.5, exactly as MATLAB imresize", 2),
    "lanczos3": ("lanczos3", "Lanczos, 3 lobes, as MATLAB imresize", 3),
}


def is_uint8_valued(x: torch.Tensor) -> bool:
    """True when every value is k/255 for an integer k in 0..255 (the tensor came from 8-bit pixels)."""
    scaled = x * 255
    return bool(torch.all(scaled == torch.round(scaled)) and x.min() >= 0 and x.max() <= 1)


class InterpolationMethod(SRMethod):
    """Upscale by MATLAB ``imresize`` with one kernel; works on RGB or one channel.

    With ``as_uint8=True`` (default), an input whose values are all multiples
    of 1/255 (it came from an 8-bit image) is resized as MATLAB resizes a uint8
    image: rounded and clipped between the two passes and at the end.  That is
    what ``imresize(im_l, s, 'bicubic')`` gives in every published table; the
    float path differs by up to 0.005 dB.
    """

    def __init__(self, name: str, *, as_uint8: bool = True) -> None:
        kernel, summary, radius = _SUMMARIES[name]
        self.kernel = kernel
        self.as_uint8 = as_uint8
        self.info = MethodInfo(
            name=name,
            family="interpolation",
            summary=summary,
            paper="MATLAB imresize; Keys 1981 (bicubic)" if name == "bicubic" else "MATLAB imresize",
            receptive_radius=radius,
        )

    def _upscale(self, lr: torch.Tensor, scale: float) -> torch.Tensor:
        if not self.as_uint8:
            return imresize_matlab(lr, scale, kernel=self.kernel)
        # decided per image: one float image in a batch must not change how the others are resized
        eight_bit = [is_uint8_valued(item) for item in lr]
        if len(set(eight_bit)) > 1:
            return each_image(lr, lambda image: self._upscale(image, scale))
        if eight_bit[0]:
            lr8 = torch.round(lr * 255).to(torch.uint8)
            return imresize_matlab(lr8, scale, kernel=self.kernel).to(lr.dtype) / 255
        return imresize_matlab(lr, scale, kernel=self.kernel)


def nearest(**options) -> InterpolationMethod:
    """Registry factory for ``nearest``: :class:`InterpolationMethod` with ``options``."""
    return InterpolationMethod("nearest", **options)


def bilinear(**options) -> InterpolationMethod:
    """Registry factory for ``bilinear``: :class:`InterpolationMethod` with ``options``."""
    return InterpolationMethod("bilinear", **options)


def bicubic(**options) -> InterpolationMethod:
    """Registry factory for ``bicubic``: :class:`InterpolationMethod` with ``options``."""
    return InterpolationMethod("bicubic", **options)


def lanczos3(**options) -> InterpolationMethod:
    """Registry factory for ``lanczos3``: :class:`InterpolationMethod` with ``options``."""
    return InterpolationMethod("lanczos3", **options)
