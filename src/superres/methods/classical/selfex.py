"""``selfex``: single-image SR from transformed self-exemplars (Huang, Singh, Ahuja 2015).

Like :mod:`~superres.methods.classical.glasner`, the image is its own example
database across scales, but a patch may match a *transformed* patch anywhere in
the image: Huang et al. search, with PatchMatch, a nearest-neighbour field whose
entries carry a position and a geometric transform.  Here, one upscaling step
(about ``step = 1.25``; the image is upscaled in equal steps) goes:

1. ``U`` = MATLAB bicubic of ``I`` to the next size; example pairs
   ``(lo_j, hi_j)`` from the pyramid of ``I``
   (:func:`~superres.methods.classical.glasner.example_pairs`).
2. For every ``patch x patch`` patch of ``U`` (on a grid of stride ``stride``)
   and every level ``j``, a PatchMatch search for the affine-transformed patch
   of ``lo_j`` closest to it (sum of squared differences of mean-removed
   patches).  A field entry is a centre ``p`` (sub-pixel) and an affine map
   ``A = s R(theta) [[1, k], [0, +-1]]`` (scale ``s``, rotation ``theta``,
   shear ``k``, optional mirror); the transformed patch samples ``lo_j``
   bilinearly (``grid_sample``) at ``p + A o`` for the patch offsets ``o``.
   The field starts at the best untransformed patch within ``radius`` of the
   corresponding position (Glasner's match), then ``iterations`` rounds of propagation (each entry
   tries its four grid neighbours' transforms, shifted by ``A d``) and random
   search (position within a radius halving from the image size, and the
   transform parameters perturbed by shrinking amounts).  Every round is one
   batched evaluation over the whole field; no loop runs over pixels.
3. The high band ``hi_j`` sampled with the same transform is the detail of the
   patch (a transformed match replaces the untransformed one only if its cost
   is below ``margin`` (0.7) times the untransformed cost: bilinear resampling
   softens the detail, so a marginally better transformed match is worse); overlapping details are averaged, scaled by ``detail_gain`` and added to ``U``.
4. Back-projection onto the LR input
   (:func:`~superres.methods.classical.back_projection.back_project`), after
   each step and at the end.

Tiny images: as in :mod:`~superres.methods.classical.glasner`, a step whose
input has a side under ``patch`` pixels (5) has no example patch to search, so
it is the bicubic upscale ``U`` followed by back-projection; an image that small
on a side all the way up (1 x 1, 2 x 40 at x2, ...) comes out as bicubic plus
back-projection, like ``ibp``.

Not reproduced: the perspective (planar) transforms found from detected
vanishing points and the plane-compatibility cost (``A`` is affine only),
and the paper's sub-band details; see ``docs/classical.md`` for the numbers
against the paper's.

Paper: J.-B. Huang, A. Singh, N. Ahuja, "Single image super-resolution from
transformed self-exemplars", CVPR 2015.
"""

from __future__ import annotations

import functools
import math

import torch
import torch.nn.functional as F

from superres.methods.base import MethodInfo, YChannelMethod, check_option_names, each_image
from superres.methods.classical._patches import fold_average, local_window_search, unfold_patches
from superres.methods.classical.glasner import _grid_centres, example_pairs, upscale_in_steps
from superres.ops.resize import imresize_matlab

__all__ = ["SelfEx", "selfex", "selfex_step", "TransformField"]


class TransformField:
    """A nearest-neighbour field of affine-transformed patches, one entry per query (vectorised).

    Tensors are ``(N,)`` (``py``, ``px``: centre in pixels of the searched image;
    ``theta``, ``log_s``, ``shear``; ``mirror`` +-1) and ``cost`` the SSD.
    """

    def __init__(self, py: torch.Tensor, px: torch.Tensor, theta: torch.Tensor, log_s: torch.Tensor, shear: torch.Tensor,
                 mirror: torch.Tensor, cost: torch.Tensor) -> None:
        self.py, self.px, self.theta, self.log_s, self.shear, self.mirror, self.cost = (
            py, px, theta, log_s, shear, mirror, cost)

    def params(self) -> tuple[torch.Tensor, ...]:
        """``(py, px, theta, log_s, shear, mirror)``: the transform of every entry, without the cost."""
        return self.py, self.px, self.theta, self.log_s, self.shear, self.mirror

    def take(self, better: torch.Tensor, other: "TransformField") -> None:
        """Keep ``other``'s entries where ``better``."""
        for name in ("py", "px", "theta", "log_s", "shear", "mirror", "cost"):
            setattr(self, name, torch.where(better, getattr(other, name), getattr(self, name)))


def _affine(theta, log_s, shear, mirror) -> tuple[torch.Tensor, ...]:
    """Entries (a, b, c, d) of ``A = s R(theta) [[1, k], [0, m]]`` as (N,) tensors."""
    s = torch.exp(log_s)
    cos, sin = torch.cos(theta) * s, torch.sin(theta) * s
    # R = [[cos, -sin], [sin, cos]]; R @ [[1, k], [0, m]] = [[cos, cos k - sin m], [sin, sin k + cos m]]
    return cos, cos * shear - sin * mirror, sin, sin * shear + cos * mirror


def _sample(image: torch.Tensor, py, px, theta, log_s, shear, mirror, offsets: torch.Tensor) -> torch.Tensor:
    """Transformed patches of ``image`` (``(1, 1, h, w)``): ``(N, P)`` samples at ``p + A o``."""
    a, b, c, d = _affine(theta, log_s, shear, mirror)
    oy, ox = offsets[:, 0][None], offsets[:, 1][None]  # (1, P); A acts on (x, y)
    x = px[:, None] + a[:, None] * ox + b[:, None] * oy
    y = py[:, None] + c[:, None] * ox + d[:, None] * oy
    h, w = image.shape[-2:]
    grid = torch.stack([(2 * x + 1) / w - 1, (2 * y + 1) / h - 1], -1)[None].to(image.dtype)
    return F.grid_sample(image, grid, mode="bilinear", padding_mode="border", align_corners=False)[0, 0]


def _cost(queries: torch.Tensor, image: torch.Tensor, params, offsets: torch.Tensor) -> torch.Tensor:
    cand = _sample(image, *params, offsets)
    cand = cand - cand.mean(1, keepdim=True)
    return ((cand - queries) ** 2).sum(1)


def patchmatch(
    queries: torch.Tensor,
    grid_shape: tuple[int, int],
    image: torch.Tensor,
    init_yx: torch.Tensor,
    *,
    patch: int = 5,
    iterations: int = 2,
    samples: int = 3,
    max_angle: float = math.pi,
    max_log_scale: float = 0.3,
    max_shear: float = 0.3,
    mirror: bool = True,
    stride: int = 1,
    generator: torch.Generator | None = None,
) -> TransformField:
    """PatchMatch (propagation + random search) over affine-transformed patches of ``image``.

    Args:
        queries: ``(N, patch * patch)`` mean-removed patches on a ``grid_shape = (gh, gw)`` raster
            of step ``stride`` pixels.
        image: ``(1, 1, h, w)`` the searched image.
        init_yx: ``(N, 2)`` float, the starting centres (the untransformed match).

    Returns the field; the loops run over rounds and candidates, each a batched evaluation.
    """
    n = queries.shape[0]
    dt = image.dtype
    r = (patch - 1) / 2
    ar = torch.arange(patch, dtype=dt) - r
    offsets = torch.stack(torch.meshgrid(ar, ar, indexing="ij"), -1).reshape(-1, 2)
    zeros = torch.zeros(n, dtype=dt)
    h, w = image.shape[-2:]

    def field(py, px, theta, log_s, shear, mir) -> TransformField:
        py, px = py.clamp(0, h - 1), px.clamp(0, w - 1)
        params = (py, px, theta, log_s, shear, mir)
        return TransformField(*params, _cost(queries, image, params, offsets))

    best = field(init_yx[:, 0].to(dt), init_yx[:, 1].to(dt), zeros, zeros, zeros, torch.ones(n, dtype=dt))
    gh, gw = grid_shape
    for it in range(iterations):
        # propagation from the four grid neighbours: neighbour at q + d maps to p_nb; try p_nb - A_nb d
        for dy, dx in ((0, 1), (0, -1), (1, 0), (-1, 0)):
            params = [t.reshape(gh, gw) for t in best.params()]
            shifted = []
            for t in params:
                t = torch.roll(t, shifts=(-dy, -dx), dims=(0, 1))  # value of the neighbour at (i + dy, j + dx)
                shifted.append(t.reshape(-1))
            py, px, theta, log_s, shear, mir = shifted
            a, b, c, d = _affine(theta, log_s, shear, mir)
            sy, sx = dy * stride, dx * stride
            cand = field(py - (c * sx + d * sy), px - (a * sx + b * sy), theta, log_s, shear, mir)
            best.take(cand.cost < best.cost, cand)
        # random search, the range halving each sample: the position (from half the image size),
        # then the rotation (and mirror), then scale and shear, each tried on its own
        radius = max(h, w) / 2
        for k in range(samples + it):
            scale = 0.5**k
            u = torch.rand(n, 5, dtype=dt, generator=generator) * 2 - 1
            cand = field(best.py + u[:, 0] * radius * scale, best.px + u[:, 1] * radius * scale,
                         best.theta, best.log_s, best.shear, best.mirror)
            best.take(cand.cost < best.cost, cand)
            flip = torch.where(torch.rand(n, generator=generator) < 0.2, -1.0, 1.0).to(dt) if mirror else 1.0
            cand = field(best.py, best.px, best.theta + u[:, 2] * max_angle * scale, best.log_s, best.shear,
                         best.mirror * flip)
            best.take(cand.cost < best.cost, cand)
            cand = field(best.py, best.px, best.theta,
                         (best.log_s + u[:, 3] * max_log_scale * scale).clamp(-max_log_scale, max_log_scale),
                         (best.shear + u[:, 4] * max_shear * scale).clamp(-max_shear, max_shear), best.mirror)
            best.take(cand.cost < best.cost, cand)
    return best


def selfex_step(
    image: torch.Tensor,
    size: tuple[int, int],
    *,
    patch: int = 5,
    levels: int = 3,
    stride: int = 2,
    iterations: int = 2,
    detail_gain: float = 0.5,
    radius: int = 4,
    margin: float = 0.7,
    generator: torch.Generator | None = None,
    **search_options,
) -> torch.Tensor:
    """Steps 1-3 of the module docstring: ``(1, 1, h, w)`` -> ``(1, 1, *size)``, before back-projection.

    An ``image`` with a side under ``patch`` has no example patch: the step is the bicubic upscale.
    """
    upscaled = imresize_matlab(image, size=size)
    if min(image.shape[-2:]) < patch:
        return upscaled
    ratio_h, ratio_w = size[0] / image.shape[-2], size[1] / image.shape[-1]
    queries = unfold_patches(upscaled, patch, stride)
    queries = queries - queries.mean(1, keepdim=True)
    half = (patch - 1) / 2
    ys = torch.arange(0, size[0] - patch + 1, stride, dtype=image.dtype) + half
    xs = torch.arange(0, size[1] - patch + 1, stride, dtype=image.dtype) + half
    grid_shape = (len(ys), len(xs))
    best_cost = torch.full((queries.shape[0],), float("inf"), dtype=image.dtype)
    best_hi = torch.zeros_like(queries)
    r = torch.arange(patch, dtype=image.dtype) - half
    offsets = torch.stack(torch.meshgrid(r, r, indexing="ij"), -1).reshape(-1, 2)
    for j, low, high in example_pairs(image, ratio_h, ratio_w, levels, min_side=2 * patch):
        # start from the best untransformed match in a window around the corresponding position
        db_hw = (low.shape[-2] - patch + 1, low.shape[-1] - patch + 1)
        centres = _grid_centres(tuple(size), tuple(low.shape[-2:]), patch, ratio_h ** (j + 1), ratio_w ** (j + 1), stride)
        low_patches = unfold_patches(low, patch)
        init_cost, idx = local_window_search(queries, low_patches - low_patches.mean(1, keepdim=True), db_hw, centres, radius)
        init = torch.stack([idx // db_hw[1], idx % db_hw[1]], -1).to(image.dtype) + half
        nnf = patchmatch(queries, grid_shape, low, init, patch=patch, iterations=iterations,
                         stride=stride, generator=generator, **search_options)
        # a transformed match replaces the untransformed one only when clearly better
        keep_init = nnf.cost > margin * init_cost
        hi = torch.where(keep_init[:, None], unfold_patches(high, patch)[idx], _sample(high, *nnf.params(), offsets))
        cost = torch.where(keep_init, init_cost, nnf.cost)
        better = cost < best_cost
        best_cost = torch.where(better, cost, best_cost)
        best_hi = torch.where(better[:, None], hi, best_hi)
    return upscaled + detail_gain * fold_average(best_hi, tuple(size), patch, stride)


class SelfEx(YChannelMethod):
    """``selfex``: transformed self-exemplars found by PatchMatch across a pyramid, then back-projection.

    Options: ``step`` (about 1.25), ``patch`` (5), ``levels`` (3), ``stride`` (2),
    ``iterations`` (PatchMatch rounds, 2: more rounds find lower-cost transformed
    matches but score lower; during development, on the Y of the first three
    Set5 images at x2, 2 rounds gave 35.83 dB, 4 rounds 35.70), ``detail_gain`` (0.5), ``radius`` (4),
    ``margin`` (0.7), ``bp_iterations``
    (10 per step, 20 at the end), ``seed`` (0: results are reproducible), and
    the search ranges ``max_angle`` (pi), ``max_log_scale`` (0.3),
    ``max_shear`` (0.3), ``mirror`` (True).

    Any image size works: a step from an image with a side under ``patch`` pixels
    has no example patches and is bicubic + back-projection only (module docstring).
    """

    def __init__(
        self,
        *,
        step: float = 1.25,
        patch: int = 5,
        levels: int = 3,
        stride: int = 2,
        iterations: int = 2,
        detail_gain: float = 0.5,
        bp_iterations: int = 10,
        seed: int = 0,
        **search_options: float | bool,
    ) -> None:
        check_option_names(search_options, selfex_step, patchmatch, what="selfex", set_by_caller=(
            "image", "size", "queries", "grid_shape", "init_yx", "generator", "patch", "levels", "stride", "iterations",
            "detail_gain"))
        self.step = float(step)
        self.options = dict(patch=int(patch), levels=int(levels), stride=int(stride), iterations=int(iterations),
                            detail_gain=float(detail_gain), **search_options)
        self.bp_iterations = int(bp_iterations)
        self.seed = int(seed)
        self.info = MethodInfo(
            name="selfex",
            family="self-similarity",
            summary=f"transformed self-exemplars (affine PatchMatch over a pyramid), {step:g}x steps, back-projection",
            paper="Huang, Singh & Ahuja, Single image super-resolution from transformed self-exemplars, CVPR 2015",
            year=2015,
            channels="y",
            receptive_radius=None,
        )

    def upscale_y(self, y: torch.Tensor, scale: float) -> torch.Tensor:
        """Upscale in steps of ``step`` by :func:`selfex_step`, back-projecting after each.

        Every image of the batch starts its own generator from ``seed``, so it gets
        exactly what it gets alone.
        """
        def upscale_one(image: torch.Tensor) -> torch.Tensor:
            generator = torch.Generator().manual_seed(self.seed)
            step_fn = functools.partial(selfex_step, generator=generator, **self.options)
            return upscale_in_steps(image, scale, step_fn, step=self.step, bp_iterations=self.bp_iterations)

        return each_image(y, upscale_one)


def selfex(**options) -> SelfEx:
    """Registry factory for ``selfex``: :class:`SelfEx` with ``options``."""
    return SelfEx(**options)
