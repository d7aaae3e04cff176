"""Features and patches of Yang et al.'s sparse-coding SR (their ``extr_lIm_fea.m``,
``sample_patches.m``, ``patch_pruning.m`` and the patch grid of ``ScSR.m``).

All images here are on Yang's 0..255 scale: the pruning threshold (variance
10) and the feature-norm threshold of the reconstruction (1) are in those
units.

* LR features: on the bicubic-upscaled LR image, four gradient maps made with
  MATLAB ``conv2(..., 'same')`` (a true convolution with zero padding) by
  ``[-1 0 1]``, its transpose, ``[1 0 -2 0 1]`` and its transpose; a 5x5 patch of
  the four maps is a 100-dimensional feature (flattened as ``(4, 5, 5)``).
* HR target: the 5x5 HR patch minus its mean (25 dimensions, row-major).
"""

from __future__ import annotations

import math
import os

import numpy as np
import torch
import torch.nn.functional as F

from superres.errors import InvalidArgumentError
from superres.ops.resize import imresize_matlab

__all__ = [
    "gradient_features",
    "patch_grid",
    "extract_patches",
    "sample_patch_pairs",
    "prune_flat_patches",
    "load_training_y",
]


def _filters(dtype: torch.dtype) -> torch.Tensor:
    # conv2 flips the kernel; F.conv2d correlates.  Store flipped kernels so that the
    # result equals MATLAB's conv2(im, k, 'same').
    k = torch.zeros(4, 1, 5, 5, dtype=dtype)
    k[0, 0, 2, 1:4] = torch.tensor([-1.0, 0.0, 1.0]).flip(0)
    k[1, 0, 1:4, 2] = torch.tensor([-1.0, 0.0, 1.0]).flip(0)
    k[2, 0, 2, :] = torch.tensor([1.0, 0.0, -2.0, 0.0, 1.0]).flip(0)
    k[3, 0, :, 2] = torch.tensor([1.0, 0.0, -2.0, 0.0, 1.0]).flip(0)
    return k


def gradient_features(image: torch.Tensor) -> torch.Tensor:
    """Yang's four gradient maps of a ``(B, 1, H, W)`` image -> ``(B, 4, H, W)``.

    Zero padding at the border, as ``conv2(im, k, 'same')``.

    Example:
        >>> gradient_features(torch.arange(25.).view(1, 1, 5, 5))[0, 0, 2]
        tensor([-11.,  -2.,  -2.,  -2.,  13.])
    """
    if image.dim() != 4 or image.shape[1] != 1:
        raise InvalidArgumentError(f"expected a (B, 1, H, W) image, got {tuple(image.shape)}")
    return F.conv2d(image, _filters(image.dtype).to(image.device), padding=2)


def patch_grid(size: int, patch: int, overlap: int) -> list[int]:
    """0-based patch origins along one side, as ``ScSR.m``: ``3 : patch-overlap : size-patch-2``
    (1-based) plus the last origin, avoiding a 2-pixel border."""
    step = patch - overlap
    if step < 1:
        raise InvalidArgumentError(f"overlap must be smaller than the patch size, got {overlap} >= {patch}")
    last = size - patch - 2  # 1-based origin of the last patch
    if last < 3:
        return []
    grid = list(range(3, last + 1, step))
    if grid[-1] != last:
        grid.append(last)
    return [g - 1 for g in grid]


def extract_patches(maps: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor, patch: int) -> torch.Tensor:
    """Patches of ``maps`` (``(C, H, W)``) with top-left corners ``(rows[i], cols[i])`` -> ``(N, C * patch * patch)``."""
    offsets = torch.arange(patch)
    r = rows.view(-1, 1, 1) + offsets.view(1, patch, 1)
    c = cols.view(-1, 1, 1) + offsets.view(1, 1, patch)
    out = maps[:, r, c]  # (C, N, patch, patch)
    return out.permute(1, 0, 2, 3).reshape(rows.numel(), -1)


def prune_flat_patches(
    hr: torch.Tensor, lr: torch.Tensor, threshold: float = 10.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Drop pairs whose HR patch variance (unbiased, 0..255 scale) is ``<= threshold`` (``patch_pruning.m``)."""
    keep = hr.var(dim=1, unbiased=True) > threshold
    return hr[keep], lr[keep]


def load_training_y(path: str | os.PathLike) -> torch.Tensor:
    """A training image's BT.601 Y (uint8-rounded, as ``rgb2ycbcr``) as a ``(1, 1, H, W)`` float64 tensor, 0..255."""
    from PIL import Image

    from superres.ops.color import rgb_to_y_bt601

    with Image.open(path) as img:
        pixels = np.asarray(img.convert("L" if img.mode in ("L", "LA") else "RGB"))
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    t = torch.from_numpy(np.array(pixels, copy=True)).permute(2, 0, 1)[None]
    return rgb_to_y_bt601(t).to(torch.float64)


def sample_patch_pairs(
    images: list[torch.Tensor],
    scale: int,
    count: int,
    *,
    patch: int = 5,
    prune_threshold: float = 10.0,
    seed: int = 0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Random (HR, LR-feature) patch pairs from Y images (0..255), as ``rnd_smp_patch.m``.

    Each image gives a share of ``count`` proportional to its pixel count.  The
    LR counterpart is ``imresize(imresize(hr, 1/s), s)`` (MATLAB bicubic, after
    cropping the HR to a multiple of ``s``).  Positions are drawn uniformly in the
    interior (Yang's code takes a grid of random rows and columns instead).  Flat
    pairs are pruned afterwards, so fewer than ``count`` come back.

    Returns:
        ``hr`` ``(N, patch**2)`` mean-removed HR patches and ``lr`` ``(N, 4 * patch**2)``
        features, float64.
    """
    gen = torch.Generator().manual_seed(seed)
    sizes = [im.shape[-2] * im.shape[-1] for im in images]
    total = sum(sizes)
    hr_all, lr_all = [], []
    for im, npx in zip(images, sizes):
        n = int(math.floor(npx * count / total))
        h, w = im.shape[-2:]
        h, w = h - h % scale, w - w % scale
        hr = im[..., :h, :w].to(torch.float64)
        if n == 0 or h < 3 * patch + 2 or w < 3 * patch + 2:
            continue
        mid = imresize_matlab(imresize_matlab(hr, 1 / scale), size=(h, w))
        fea = gradient_features(mid)[0]
        rows = torch.randint(patch, h - 2 * patch, (n,), generator=gen)
        cols = torch.randint(patch, w - 2 * patch, (n,), generator=gen)
        hp = extract_patches(hr[0], rows, cols, patch)
        hr_all.append(hp - hp.mean(dim=1, keepdim=True))
        lr_all.append(extract_patches(fea, rows, cols, patch))
    hr_patches, lr_patches = torch.cat(hr_all), torch.cat(lr_all)
    return prune_flat_patches(hr_patches, lr_patches, prune_threshold)
