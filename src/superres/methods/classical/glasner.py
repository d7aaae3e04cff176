"""``glasner``: super-resolution from a single image (Glasner, Bagon, Irani 2009).

Small patches of a natural image recur within and across its scales, so the
image itself, seen at coarser scales, is a database of (low-res, high-res)
examples.  The image is upscaled in small steps (factor ``scale ** (1/n)``,
about ``step = 1.25`` each); one step from ``I`` to the next size:

1. ``U`` = MATLAB bicubic of ``I`` to the next size (the missing band is what
   the examples must add).
2. Example pairs from the pyramid of the image: for ``S_j = I`` downscaled by
   ``f^j`` (``j = 0 .. levels - 1``), ``lo_j`` = ``S_j`` downscaled by ``f`` and
   bicubic-upscaled back (it has lost the band that ``U`` lacks) and
   ``hi_j = S_j - lo_j``.
3. Example-based constraint: every ``patch x patch`` patch of ``U`` finds its
   nearest patch (sum of squared differences of the mean-removed patches) among the
   ``lo_j`` patches within ``radius`` pixels of the corresponding position
   (recurrences are mostly local, Glasner et al. fig. 3), vectorised over the
   whole image, and takes the matching ``hi_j`` patch; the overlapping
   high-frequency patches are averaged with weights ``exp(-ssd / h^2)`` and added to ``U``
   times ``detail_gain`` (0.5: a full-strength band overshoots after averaging
   mismatched details; during development, on the Y of the first three Set5
   images at x2 with ``stride=1``, gains 0 / 0.5 / 1 gave 35.40 / 35.98 / 35.00 dB).
4. Classical constraint: iterative back-projection of the estimate onto the LR
   input (through the total factor so far), with the project's
   :func:`~superres.methods.classical.back_projection.back_project`.

After the last step a final back-projection makes the result consistent
with the LR input.

Tiny images: a step whose input ``I`` has a side under ``patch`` pixels (5) has
no example patch at all (``I`` itself is the finest pyramid level), so steps
1-3 reduce to step 1, the bicubic upscale ``U``, and back-projection (step 4)
follows as usual.  An image that small on a side all the way up (a 1 x 1 or
2 x 40 input at x2, say) is bicubic plus back-projection, like ``ibp``; a
larger one switches to example-based steps as soon as its current size allows.

The simplifications against the paper (integer-pixel matches instead of
sub-pixel, a local search window, one nearest neighbour) and the resulting
numbers are in ``docs/classical.md``.

Paper: D. Glasner, S. Bagon, M. Irani, "Super-resolution from a single image", ICCV 2009.
"""

from __future__ import annotations

import functools
from typing import Callable, Iterator

import torch

from superres.methods.base import MethodInfo, YChannelMethod, each_image
from superres.methods.classical._patches import fold_average, local_window_search, step_sizes, unfold_patches
from superres.methods.classical.back_projection import back_project
from superres.ops.resize import imresize_matlab

__all__ = ["Glasner", "glasner", "glasner_step", "example_pairs", "upscale_in_steps"]


def _centred(patches: torch.Tensor) -> torch.Tensor:
    return patches - patches.mean(1, keepdim=True)


def _grid_centres(
    out_hw: tuple[int, int], db_hw: tuple[int, int], patch: int, ratio_h: float, ratio_w: float, stride: int = 1
) -> torch.Tensor:
    """(row, col) on the database patch grid corresponding to each query patch of the output grid."""
    half = (patch - 1) / 2
    ys = torch.arange(0, out_hw[0] - patch + 1, stride, dtype=torch.float64) + half
    xs = torch.arange(0, out_hw[1] - patch + 1, stride, dtype=torch.float64) + half
    # pixel centres map as (i + 0.5) / ratio - 0.5 (MATLAB's imresize convention)
    cy = torch.round((ys + 0.5) / ratio_h - 0.5 - half).clamp(0, db_hw[0] - patch).long()
    cx = torch.round((xs + 0.5) / ratio_w - 0.5 - half).clamp(0, db_hw[1] - patch).long()
    return torch.stack(torch.meshgrid(cy, cx, indexing="ij"), -1).reshape(-1, 2)


def example_pairs(image: torch.Tensor, ratio_h: float, ratio_w: float, levels: int, *,
                  min_side: int) -> Iterator[tuple[int, torch.Tensor, torch.Tensor]]:
    """Step 2 of the module docstring: yields ``(j, lo_j, hi_j)`` for the pyramid levels of ``image``.

    ``S_j`` is ``image`` downscaled by ``ratio^j`` (MATLAB bicubic); levels whose
    smaller side would fall under ``min_side`` are skipped.
    """
    source = image
    for j in range(levels):
        if j > 0:
            hj = round(image.shape[-2] / ratio_h**j)
            wj = round(image.shape[-1] / ratio_w**j)
            if min(hj, wj) < min_side:
                return
            source = imresize_matlab(image, size=(hj, wj))
        small = (max(1, round(source.shape[-2] / ratio_h)), max(1, round(source.shape[-1] / ratio_w)))
        low = imresize_matlab(imresize_matlab(source, size=small), size=tuple(source.shape[-2:]))
        yield j, low, source - low


def upscale_in_steps(
    y: torch.Tensor,
    scale: float,
    step_fn: Callable[[torch.Tensor, tuple[int, int]], torch.Tensor],
    *,
    step: float,
    bp_iterations: int,
) -> torch.Tensor:
    """Upscale ``(B, 1, H, W)`` ``y`` in equal steps of about ``step``: ``step_fn(image, size)``
    then ``bp_iterations`` of back-projection onto ``y`` after each, twice as many at the end."""
    def upscale_one(image: torch.Tensor) -> torch.Tensor:
        lr = image.to(torch.float32)
        x = lr
        for size in step_sizes(lr.shape[-2], lr.shape[-1], scale, step):
            x = step_fn(x, size)
            x = back_project(x, lr, size[0] / lr.shape[-2], iterations=bp_iterations)
        return back_project(x, lr, scale, iterations=2 * bp_iterations)

    return each_image(y, upscale_one).to(y.dtype)


def glasner_step(
    image: torch.Tensor,
    size: tuple[int, int],
    *,
    patch: int = 5,
    radius: int = 4,
    levels: int = 3,
    h: float = 0.2,
    detail_gain: float = 0.5,
    stride: int = 2,
) -> torch.Tensor:
    """Steps 1-3 of the module docstring: ``(1, 1, h, w)`` -> ``(1, 1, *size)``, before back-projection.

    An ``image`` with a side under ``patch`` has no example patch: the step is the bicubic upscale.
    """
    upscaled = imresize_matlab(image, size=size)
    if min(image.shape[-2:]) < patch:
        return upscaled
    ratio_h, ratio_w = size[0] / image.shape[-2], size[1] / image.shape[-1]
    queries = _centred(unfold_patches(upscaled, patch, stride))
    best = torch.full((queries.shape[0],), float("inf"), dtype=image.dtype)
    best_hi = torch.zeros_like(queries)
    for j, low, high in example_pairs(image, ratio_h, ratio_w, levels, min_side=2 * patch):
        db_hw = (high.shape[-2] - patch + 1, high.shape[-1] - patch + 1)
        centres = _grid_centres(tuple(size), tuple(high.shape[-2:]), patch, ratio_h ** (j + 1), ratio_w ** (j + 1), stride)
        ssd, idx = local_window_search(queries, _centred(unfold_patches(low, patch)), db_hw, centres, radius)
        better = ssd < best
        best = torch.where(better, ssd, best)
        best_hi = torch.where(better[:, None], unfold_patches(high, patch)[idx], best_hi)
    weights = torch.exp(-best / (patch * patch * h * h))
    return upscaled + detail_gain * fold_average(best_hi, tuple(size), patch, stride, weights=weights.clamp_min(1e-8))


class Glasner(YChannelMethod):
    """``glasner``: in-image patch recurrence across scales, upscaling in ~1.25x steps, then back-projection.

    Options: ``step`` (about 1.25), ``patch`` (5), ``radius`` (search window, 4),
    ``levels`` (pyramid levels searched, 3), ``h`` (match weight, 0.2),
    ``detail_gain`` (fraction of the found high band added, 0.5),
    ``stride`` (of the query patch grid, 2; 1 is 3x slower for +0.03 dB on Set5),
    ``bp_iterations`` (back-projection per step, 10; 20 at the end).

    Any image size works: a step from an image with a side under ``patch`` pixels
    has no example patches and is bicubic + back-projection only (module docstring).
    """

    def __init__(
        self,
        *,
        step: float = 1.25,
        patch: int = 5,
        radius: int = 4,
        levels: int = 3,
        h: float = 0.2,
        detail_gain: float = 0.5,
        stride: int = 2,
        bp_iterations: int = 10,
    ) -> None:
        self.step = float(step)
        self.options = dict(patch=int(patch), radius=int(radius), levels=int(levels), h=float(h),
                            detail_gain=float(detail_gain), stride=int(stride))
        self.bp_iterations = int(bp_iterations)
        self.info = MethodInfo(
            name="glasner",
            family="self-similarity",
            summary=f"patch recurrence within and across scales, {step:g}x steps, back-projection",
            paper="Glasner, Bagon & Irani, Super-resolution from a single image, ICCV 2009",
            year=2009,
            channels="y",
            receptive_radius=None,
        )

    def upscale_y(self, y: torch.Tensor, scale: float) -> torch.Tensor:
        """Upscale in steps of ``step`` by :func:`glasner_step`, back-projecting after each."""
        step_fn = functools.partial(glasner_step, **self.options)
        return upscale_in_steps(y, scale, step_fn, step=self.step, bp_iterations=self.bp_iterations)


def glasner(**options) -> Glasner:
    """Registry factory for ``glasner``: :class:`Glasner` with ``options``."""
    return Glasner(**options)
