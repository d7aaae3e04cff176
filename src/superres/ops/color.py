"""MATLAB ``rgb2ycbcr`` / ``ycbcr2rgb`` (ITU-R BT.601, "studio swing").

Y lies in 16..235 and Cb, Cr in 16..240 (on the 0..255 scale).  Every SR
paper measures PSNR/SSIM on this Y, computed from uint8 RGB and stored as
uint8, so the uint8 path here rounds half away from zero exactly as MATLAB's
``imlincomb`` does.  Float input is taken in ``[0, 1]`` and gives float output
on the same scale (Y in ``[16/255, 235/255]``), with no rounding.

Note that "Y" here is *not* the full-range JPEG/kornia YCbCr luma.
"""

from __future__ import annotations

import torch

from superres.errors import InvalidArgumentError

__all__ = ["rgb_to_ycbcr_bt601", "ycbcr_bt601_to_rgb", "rgb_to_y_bt601", "round_half_away"]

# MATLAB's matrix for RGB in [0, 1] -> YCbCr in [0, 255].
_RGB_TO_YCBCR = torch.tensor(
    [
        [65.481, 128.553, 24.966],
        [-37.797, -74.203, 112.0],
        [112.0, -93.786, -18.214],
    ],
    dtype=torch.float64,
)
_OFFSET = torch.tensor([16.0, 128.0, 128.0], dtype=torch.float64)


def round_half_away(x: torch.Tensor) -> torch.Tensor:
    """Round half away from zero (MATLAB ``round``); torch.round rounds half to even.

    ``floor(|x| + 0.5)`` would round float32 0.49999997 up (the sum rounds to 1.0); the
    fractional part ``|x| - floor(|x|)`` is exact, so comparing it with 0.5 is too.
    """
    magnitude = torch.abs(x)
    whole = torch.floor(magnitude)
    return torch.sign(x) * (whole + (magnitude - whole >= 0.5).to(x.dtype))


def _check_rgb(image: torch.Tensor) -> None:
    if image.dim() < 3 or image.shape[-3] != 3:
        raise InvalidArgumentError(f"expected an RGB tensor (..., 3, H, W), got shape {tuple(image.shape)}")


def _apply(matrix: torch.Tensor, offset: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    # (..., 3, H, W): out_c = sum_k m[c, k] * x_k + offset_c; the constants follow x to its device
    out = torch.einsum("ck,...khw->...chw", matrix.to(x.device, x.dtype), x)
    return out + offset.to(x.device, x.dtype).view(3, 1, 1)


def rgb_to_ycbcr_bt601(image: torch.Tensor) -> torch.Tensor:
    """MATLAB ``rgb2ycbcr``.

    Args:
        image: ``(..., 3, H, W)``; uint8 (0..255) or float in ``[0, 1]``.

    Returns:
        ``(..., 3, H, W)`` YCbCr of the same dtype: uint8 rounded half away from
        zero and saturated, or float on the ``[0, 1]`` scale (Y in 16/255..235/255).
    """
    _check_rgb(image)
    if image.dtype == torch.uint8:
        # imlincomb: T/255 * rgb(0..255) + offset, computed in double, then rounded.
        ycc = _apply(_RGB_TO_YCBCR / 255.0, _OFFSET, image.to(torch.float64))
        return torch.clamp(round_half_away(ycc), 0, 255).to(torch.uint8)
    if not image.is_floating_point():
        raise InvalidArgumentError(f"rgb_to_ycbcr_bt601 takes uint8 or float input, got {image.dtype}")
    return _apply(_RGB_TO_YCBCR / 255.0, _OFFSET / 255.0, image)


def rgb_to_y_bt601(image: torch.Tensor) -> torch.Tensor:
    """The Y channel of :func:`rgb_to_ycbcr_bt601`, shape ``(..., 1, H, W)``.

    A single-channel input is returned as a copy: the protocol uses a grayscale
    image as its own Y.
    """
    if image.dim() >= 3 and image.shape[-3] == 1:
        return image.clone()
    return rgb_to_ycbcr_bt601(image)[..., :1, :, :]


def ycbcr_bt601_to_rgb(image: torch.Tensor) -> torch.Tensor:
    """MATLAB ``ycbcr2rgb``: the inverse of :func:`rgb_to_ycbcr_bt601`.

    uint8 in gives uint8 out (rounded, saturated); float in ``[0, 1]`` scale
    gives float RGB in about ``[0, 1]``, not clipped (callers clip when they
    quantise).
    """
    _check_rgb(image)
    inverse = torch.linalg.inv(_RGB_TO_YCBCR)
    if image.dtype == torch.uint8:
        # rgb(0..255) = 255 * inv(T) * (ycbcr(0..255) - offset)
        rgb = _apply(inverse * 255.0, -(inverse @ _OFFSET) * 255.0, image.to(torch.float64))
        return torch.clamp(round_half_away(rgb), 0, 255).to(torch.uint8)
    if not image.is_floating_point():
        raise InvalidArgumentError(f"ycbcr_bt601_to_rgb takes uint8 or float input, got {image.dtype}")
    return _apply(inverse * 255.0, -(inverse @ _OFFSET), image)
