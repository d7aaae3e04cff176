"""HR -> LR degradations, by name.

``bicubic`` is the degradation of every classic SR table: modcrop, then
MATLAB ``imresize(hr, 1/s, 'bicubic')`` with antialiasing, the classic
MATLAB's replicated borders, and uint8 rounding between and after the passes
when the input is uint8.  ``gaussian`` blurs with a Gaussian and keeps every
s-th pixel (the "blur and subsample" model of reconstruction-based SR).
"""

from __future__ import annotations

import math
from typing import Callable

import torch

from superres.errors import InvalidArgumentError, UnknownNameError
from superres.ops.color import round_half_away
from superres.ops.crop import modcrop
from superres.ops.filters import gaussian_blur
from superres.ops.resize import MAX_SCALE, Border, checked_scale, imresize_matlab

__all__ = [
    "DEGRADATIONS",
    "bicubic_downscale",
    "gaussian_blur_downsample",
    "bicubic_upsample",
    "modcrop_to_scale",
    "make_lr",
    "get_degradation",
]


def modcrop_to_scale(hr: torch.Tensor, scale: float) -> torch.Tensor:
    """Crop HR so that ``HR / scale`` is a whole number of pixels (2.5 -> multiple of 5)."""
    from superres.data.datasets import modcrop_multiple

    return modcrop(hr, modcrop_multiple(scale))


def bicubic_downscale(hr: torch.Tensor, scale: float, *, border: Border = "replicate") -> torch.Tensor:
    """MATLAB bicubic downscale by ``scale``; uint8 in -> uint8 out, float -> float (unrounded).

    An integer ``scale`` is exactly ``imresize(hr, 1/scale, 'bicubic')``.  A fractional
    one is ``imresize(hr, [ceil(h/scale) ceil(w/scale)], 'bicubic')``: the same image
    when ``hr`` is modcropped for ``scale`` (:func:`modcrop_to_scale`, as every caller
    here does), and otherwise the kernel follows the rounded size, not ``1/scale``.
    ``scale`` must be above 1 (at most :data:`~superres.ops.resize.MAX_SCALE`).
    """
    scale = checked_scale(scale)
    if scale.is_integer():
        # MATLAB was called with the factor 1/s: same sizes, and the factor enters the weights.
        return imresize_matlab(hr, 1 / scale, border=border)
    h, w = hr.shape[-2:]
    return imresize_matlab(hr, size=(math.ceil(round(h / scale, 9)), math.ceil(round(w / scale, 9))), border=border)


def bicubic_upsample(lr: torch.Tensor, scale: float, size: tuple[int, int] | None = None) -> torch.Tensor:
    """The bicubic pre-upsampling SRCNN, VDSR and SCN take as input (float in, float out)."""
    if size is not None:
        return imresize_matlab(lr, size=size)
    return imresize_matlab(lr, scale)


def gaussian_blur_downsample(hr: torch.Tensor, scale: int, *, sigma: float | None = None) -> torch.Tensor:
    """Blur with a Gaussian and keep every ``scale``-th pixel.

    ``sigma`` defaults to ``0.4 * scale`` (1.6 at x4, the common choice of the
    blur-downsample benchmarks); the kernel is ``2 * ceil(3 sigma) + 1`` wide
    with replicated borders.  The kept pixels are MATLAB ``imresize(blurred,
    1/scale, 'nearest')``'s: pixel ``scale // 2`` of each ``scale x scale`` block
    (its centre for odd scales, the pixel after it for even ones), and
    ``ceil(size / scale)`` of them, the last one clamped to the image.
    Float input in [0, 1] -> float output; uint8 input is rounded back to uint8.
    """
    try:
        value: float | None = checked_scale(scale)
    except InvalidArgumentError:
        value = None  # not a number, or out of range: refused below with this function's own words
    if value is None or not value.is_integer():
        raise InvalidArgumentError(f"gaussian blur + subsample needs an integer scale from 2 to {MAX_SCALE}, got {scale}")
    scale = int(value)
    sigma = 0.4 * scale if sigma is None else float(sigma)
    if not (math.isfinite(sigma) and sigma > 0):
        raise InvalidArgumentError(f"gaussian blur needs a positive sigma, got {sigma}")
    if hr.dtype != torch.uint8 and not hr.is_floating_point():
        raise InvalidArgumentError(f"gaussian blur + subsample takes uint8 or float input, got {hr.dtype}")
    is_uint8 = hr.dtype == torch.uint8
    x = hr.to(torch.float64)
    lead = x.shape[:-2]
    x = gaussian_blur(x.reshape(-1, 1, *x.shape[-2:]), sigma)
    rows, cols = (_nearest_grid(size, scale, x.device) for size in x.shape[-2:])
    x = x.index_select(-2, rows).index_select(-1, cols)
    x = x.reshape(*lead, *x.shape[-2:])
    if is_uint8:
        return torch.clamp(round_half_away(x), 0, 255).to(torch.uint8)
    return x.to(hr.dtype)


def _nearest_grid(size: int, scale: int, device: torch.device) -> torch.Tensor:
    """Indices MATLAB ``imresize(x, 1/scale, 'nearest')`` keeps along a side of ``size``."""
    return torch.arange(scale // 2, scale // 2 + scale * math.ceil(size / scale), scale, device=device).clamp(max=size - 1)


DEGRADATIONS: dict[str, Callable[..., torch.Tensor]] = {
    "bicubic": bicubic_downscale,
    "gaussian": gaussian_blur_downsample,
}


def get_degradation(name: str) -> Callable[..., torch.Tensor]:
    """The degradation function registered as ``name``."""
    if name not in DEGRADATIONS:
        raise UnknownNameError(f"unknown degradation {name!r} (known: {', '.join(DEGRADATIONS)})")
    return DEGRADATIONS[name]


def make_lr(hr: torch.Tensor, scale: float, *, degradation: str = "bicubic") -> tuple[torch.Tensor, torch.Tensor]:
    """Modcrop ``hr`` for ``scale`` and degrade it; returns ``(hr_cropped, lr)``."""
    hr = modcrop_to_scale(hr, scale)
    return hr, get_degradation(degradation)(hr, scale)
