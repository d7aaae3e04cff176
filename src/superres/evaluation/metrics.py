"""PSNR and SSIM exactly as the SR literature computes them.

The standard protocol (Yang et al. 2010, SRCNN, VDSR, SelfExSR, ...):

1. quantise the SR image to uint8 (MATLAB rounding);
2. take Y of MATLAB ``rgb2ycbcr`` on the uint8 RGB, stored as uint8
   (a single-channel image is its own Y);
3. shave ``scale`` pixels from every border;
4. PSNR with peak 255; SSIM as Wang et al.'s ``ssim_index.m`` (11x11
   Gaussian window, sigma 1.5, K1 = 0.01, K2 = 0.03, 'valid' filtering,
   mean of the SSIM map).

:func:`psnr` and :func:`ssim` are the plain metrics on ``(B, C, H, W)``
tensors; :func:`protocol_metrics` applies the whole protocol.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F

from superres.errors import InvalidArgumentError
from superres.ops.color import rgb_to_y_bt601, rgb_to_ycbcr_bt601, round_half_away
from superres.ops.crop import check_image_tensor, shave as shave_border
from superres.ops.filters import check_positive as _check_positive, gaussian_window

__all__ = ["mse", "psnr", "ssim", "gaussian_window", "quantize_uint8", "protocol_metrics"]


def _pair(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    check_image_tensor(a, "first image")
    check_image_tensor(b, "second image")
    if a.shape != b.shape:
        raise InvalidArgumentError(f"images differ in shape: {tuple(a.shape)} vs {tuple(b.shape)}")
    return a.to(torch.float64), b.to(torch.float64)


def mse(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mean squared error per image, ``(B,)`` float64, over C, H, W."""
    a, b = _pair(a, b)
    return ((a - b) ** 2).mean(dim=(1, 2, 3))


def psnr(a: torch.Tensor, b: torch.Tensor, *, data_range: float) -> torch.Tensor:
    """PSNR in dB per image, ``(B,)``: ``10 log10(data_range^2 / MSE)``; inf for identical images.

    ``data_range`` is keyword-only and required (255 for uint8-scale values,
    1 for ``[0, 1]`` floats), so no dtype guessing can change the result.
    """
    _check_positive(data_range=data_range)
    err = mse(a, b)
    return 10 * torch.log10(data_range**2 / err)


def ssim(
    a: torch.Tensor,
    b: torch.Tensor,
    *,
    data_range: float,
    window_size: int = 11,
    sigma: float = 1.5,
    k1: float = 0.01,
    k2: float = 0.03,
) -> torch.Tensor:
    """Mean SSIM per image, ``(B,)``, as Wang et al.'s ``ssim_index.m``.

    'valid' filtering with an ``window_size`` Gaussian window; channels are
    scored separately and averaged (the protocol uses one channel, Y).
    """
    _check_positive(data_range=data_range)
    win = gaussian_window(window_size, sigma)
    a, b = _pair(a, b)
    bsz, channels, h, w = a.shape
    if h < window_size or w < window_size:
        raise InvalidArgumentError(f"SSIM needs images of at least {window_size}x{window_size}, got {h}x{w}")
    c1 = (k1 * data_range) ** 2
    c2 = (k2 * data_range) ** 2
    # The Gaussian window is the outer product of a 1-D Gaussian, so filter rows then
    # columns: same values up to float64 rounding, about 5x fewer operations.
    g = win.sum(dim=1).to(a.device)
    x = a.reshape(bsz * channels, 1, h, w)
    y = b.reshape(bsz * channels, 1, h, w)
    stack = torch.cat([x, y, x * x, y * y, x * y], dim=1).view(-1, 1, h, w)
    stats = F.conv2d(F.conv2d(stack, g.view(1, 1, 1, -1)), g.view(1, 1, -1, 1))
    stats = stats.view(bsz * channels, 5, *stats.shape[-2:])
    mu1, mu2, e11, e22, e12 = stats.unbind(1)
    mu1_sq, mu2_sq, mu12 = mu1 * mu1, mu2 * mu2, mu1 * mu2
    sigma1_sq, sigma2_sq, sigma12 = e11 - mu1_sq, e22 - mu2_sq, e12 - mu12
    ssim_map = ((2 * mu12 + c1) * (2 * sigma12 + c2)) / ((mu1_sq + mu2_sq + c1) * (sigma1_sq + sigma2_sq + c2))
    return ssim_map.mean(dim=(1, 2)).view(bsz, channels).mean(dim=1)


def quantize_uint8(image: torch.Tensor) -> torch.Tensor:
    """``[0, 1]`` float -> uint8 as MATLAB ``uint8(x * 255)``: clip, round half away from zero.

    uint8 input is returned unchanged.  Other integer types, and NaN or infinite
    values (a diverged network's output), are refused: clipped, they would get a
    plausible score.
    """
    if image.dtype == torch.uint8:
        return image
    if not image.is_floating_point():
        raise InvalidArgumentError(f"images to score must be uint8 or float in [0, 1], got {image.dtype}")
    if not bool(torch.isfinite(image).all()):
        raise InvalidArgumentError("image to score holds NaN or infinite values")
    return torch.clamp(round_half_away(image.to(torch.float64) * 255), 0, 255).to(torch.uint8)


def protocol_metrics(
    sr: torch.Tensor,
    hr: torch.Tensor,
    *,
    shave: int,
    channel: Literal["y", "rgb", "y-unrounded"] = "y",
) -> tuple[torch.Tensor, torch.Tensor]:
    """PSNR and SSIM of ``sr`` against ``hr`` under the SR protocol, each ``(B,)``.

    Args:
        sr: ``(B, C, H, W)`` uint8, or float in ``[0, 1]`` (quantised to uint8 first,
            as a saved image would be).  ``C`` is 3 (RGB) or 1 (Y or grayscale).
        hr: the ground truth, same form.
        shave: pixels removed from every border (the protocol uses the scale).
        channel: ``"y"`` (default, the published protocol: uint8-rounded Y),
            ``"y-unrounded"`` (Y in float from the uint8 RGB, as some
            PyTorch re-implementations do; gives slightly different numbers) or
            ``"rgb"`` (all three channels).
    """
    sr8, hr8 = quantize_uint8(sr), quantize_uint8(hr)
    if sr8.shape != hr8.shape:
        raise InvalidArgumentError(f"SR shape {tuple(sr8.shape)} differs from HR shape {tuple(hr8.shape)}")
    if sr8.dim() != 4 or sr8.shape[1] not in (1, 3):
        raise InvalidArgumentError(f"images to score must be (B, 1 or 3, H, W), got {tuple(sr8.shape)}")
    if channel == "y":
        sr_c, hr_c = rgb_to_y_bt601(sr8), rgb_to_y_bt601(hr8)
    elif channel == "y-unrounded":

        def y_float(img: torch.Tensor) -> torch.Tensor:
            if img.shape[1] == 1:
                return img.to(torch.float64)
            return rgb_to_ycbcr_bt601(img.to(torch.float64) / 255)[:, :1] * 255

        sr_c, hr_c = y_float(sr8), y_float(hr8)
    elif channel == "rgb":
        sr_c, hr_c = sr8, hr8
    else:
        raise InvalidArgumentError(f"unknown metric channel {channel!r} (choose y, y-unrounded or rgb)")
    sr_c = shave_border(sr_c.to(torch.float64), shave)
    hr_c = shave_border(hr_c.to(torch.float64), shave)
    return psnr(sr_c, hr_c, data_range=255.0), ssim(sr_c, hr_c, data_range=255.0)
