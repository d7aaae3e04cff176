"""Gaussian filters: MATLAB's ``fspecial('gaussian')`` window and a separable Gaussian blur.

One place for them: the SSIM window, Yang's back-projection kernel, the blur of the
blur-and-subsample degradation and Freeman's band split all come from here.
"""

from __future__ import annotations

import math
import operator

import torch
import torch.nn.functional as F

from superres.errors import InvalidArgumentError

__all__ = ["check_positive", "gaussian_window", "gaussian_blur"]


def check_positive(**values: float) -> None:
    """Refuse anything but a positive finite number (numpy and 0-d tensor numbers included)."""
    for name, value in values.items():
        try:
            number = float(value)
        except (TypeError, ValueError, RuntimeError):  # RuntimeError: a tensor of several values
            number = math.nan
        if isinstance(value, bool) or not (math.isfinite(number) and number > 0):
            raise InvalidArgumentError(f"{name} must be a positive number, got {value!r}")


def gaussian_window(size: int = 11, sigma: float = 1.5) -> torch.Tensor:
    """MATLAB ``fspecial('gaussian', size, sigma)``: ``(size, size)`` float64 summing to 1."""
    try:
        whole = -1 if isinstance(size, bool) else operator.index(size)  # int, numpy int; not 7.5, not True
    except TypeError:
        whole = -1
    if whole < 1:
        raise InvalidArgumentError(f"window size must be a positive integer, got {size!r}")
    size = whole
    check_positive(sigma=sigma)
    half = (size - 1) / 2
    coords = torch.arange(size, dtype=torch.float64) - half
    g = torch.exp(-(coords[:, None] ** 2 + coords[None, :] ** 2) / (2 * sigma**2))
    g[g < torch.finfo(torch.float64).eps * g.max()] = 0
    return g / g.sum()


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of ``(N, 1, H, W)`` float ``x``, replicated borders: a kernel of
    ``2 * ceil(3 sigma) + 1`` taps (at least 3), summing to 1, in ``x``'s dtype."""
    check_positive(sigma=sigma)
    radius = max(1, math.ceil(3 * sigma))
    t = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
    k = torch.exp(-(t * t) / (2 * sigma * sigma))
    k = k / k.sum()
    x = F.conv2d(F.pad(x, (radius, radius, 0, 0), mode="replicate"), k.view(1, 1, 1, -1))
    return F.conv2d(F.pad(x, (0, 0, radius, radius), mode="replicate"), k.view(1, 1, -1, 1))
