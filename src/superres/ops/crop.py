"""Cropping helpers of the SR protocol: ``modcrop`` and border ``shave``."""

from __future__ import annotations

import torch

from superres.errors import InvalidArgumentError

__all__ = ["modcrop", "shave", "check_image_tensor"]


def check_image_tensor(image: torch.Tensor, what: str = "image") -> None:
    """Raise :class:`InvalidArgumentError` unless ``image`` is ``(B, C, H, W)``."""
    if not isinstance(image, torch.Tensor) or image.dim() != 4:
        shape = tuple(image.shape) if isinstance(image, torch.Tensor) else type(image).__name__
        raise InvalidArgumentError(f"{what} must be a (B, C, H, W) tensor, got {shape}")
    if image.numel() == 0:
        raise InvalidArgumentError(f"{what} must not be empty, got shape {tuple(image.shape)}")


def _whole(value: float, what: str) -> int:
    """``value`` as an int, refusing a fraction (2.5 would silently act as 2)."""
    if isinstance(value, bool) or not float(value).is_integer():
        raise InvalidArgumentError(f"{what} must be a whole number, got {value!r}")
    return int(value)


def modcrop(image: torch.Tensor, scale: int) -> torch.Tensor:
    """Crop ``(..., H, W)`` at the bottom/right so both sides are multiples of ``scale``.

    This is the ``modcrop`` of the SRCNN/VDSR/ScSR MATLAB code: the HR image is
    cropped *before* the LR image is made, so ``LR * scale`` has the HR size.
    """
    scale = _whole(scale, "modcrop scale")
    if scale < 1:
        raise InvalidArgumentError(f"modcrop scale must be >= 1, got {scale}")
    h, w = image.shape[-2:]
    return image[..., : h - h % scale, : w - w % scale]


def shave(image: torch.Tensor, border: int) -> torch.Tensor:
    """Remove ``border`` pixels from every side of ``(..., H, W)``."""
    border = _whole(border, "shave border")
    if border < 0:
        raise InvalidArgumentError(f"shave border must be >= 0, got {border}")
    if border == 0:
        return image
    h, w = image.shape[-2:]
    if h <= 2 * border or w <= 2 * border:
        raise InvalidArgumentError(f"image of {h}x{w} is too small to shave {border} pixels per side")
    return image[..., border:-border, border:-border]
