"""``gpp``: gradient profile prior (Sun, Xu, Shum 2008), a practical version.

1. ``u``: MATLAB bicubic upscale of the LR Y.
2. Edge centres: pixels of ``u`` whose gradient magnitude is a local maximum
   along the gradient direction (non-maximum suppression, 4 directions) and
   above ``edge_threshold``.
3. Every pixel within ``max_distance`` of an edge centre takes the profile of
   its nearest centre (Euclidean distance transform): the distance ``d`` and the
   centre's profile sharpness ``sigma_l``, estimated from the edge contrast ``C``
   (max - min of ``u`` around the centre) and its peak gradient ``m``:
   ``sigma_l = C / (sqrt(2 pi) m)`` (exact for a Gaussian-blurred step).
4. The profile is sharpened toward the natural-image prior, a generalised
   Gaussian of shape ``lambda = 1.6`` and sharpness ``sigma_h = kappa * sigma_l``:
   the gradient is multiplied by the ratio of the two profiles,
   ``r(d) = g(d; sigma_h, lambda) / g(d; sigma_l, lambda)`` with
   ``g(d; s, l) = l a / (2 s Gamma(1/l)) exp(-(a |d| / s)^l)``,
   ``a = sqrt(Gamma(3/l) / Gamma(1/l))`` (Sun et al., eq. 8 and 11), clamped to ``max_ratio``.
5. The SR image minimises ``E(x) = ||DH x - y||^2 / N_lr + beta ||grad x - T||^2 / N_hr``
   with ``T`` the transformed gradient field, from ``u``, by conjugate-gradient
   descent (the energy is quadratic; each step is an exact line search along a
   conjugate gradient direction, so ``E`` decreases at every iteration).  The
   gradients come from torch autograd, so ``(DH)^T`` is the exact adjoint of
   the MATLAB resize.

Simplifications against the paper: the profile shape ``lambda`` is the same
before and after (the paper fits it per image), ``sigma_h / sigma_l`` is one
constant ``kappa`` instead of the learned relation, and the profile is taken
along the straight line to the nearest edge centre instead of being traced
along the gradient.

Paper: J. Sun, Z. Xu, H.-Y. Shum, "Image super-resolution using gradient
profile prior", CVPR 2008.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from superres.methods.base import MethodInfo, YChannelMethod, check_option_names, each_image
from superres.methods.classical.back_projection import _downscale_to
from superres.ops.resize import imresize_matlab

__all__ = ["GPP", "gpp", "gpp_energy", "sharpened_gradients", "gpp_solve"]


def _gradients(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Forward differences with a zero last column/row (Neumann boundary)."""
    gx = F.pad(x[..., :, 1:] - x[..., :, :-1], (0, 1, 0, 0))
    gy = F.pad(x[..., 1:, :] - x[..., :-1, :], (0, 0, 0, 1))
    return gx, gy


def _profile_density(d: torch.Tensor, sigma: torch.Tensor, lam: float) -> torch.Tensor:
    a = math.sqrt(math.gamma(3 / lam) / math.gamma(1 / lam))
    # |d|: a fractional power of a negative distance would be NaN
    return lam * a / (2 * sigma * math.gamma(1 / lam)) * torch.exp(-((a * d.abs() / sigma) ** lam))


def sharpened_gradients(
    u: torch.Tensor,
    *,
    kappa: float = 0.6,
    shape: float = 1.6,
    edge_threshold: float = 0.02,
    max_distance: float = 4.0,
    max_ratio: float = 3.0,
    contrast_radius: int = 3,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The target gradient field ``T = r(d) * grad u`` of steps 2-4 (module docstring).

    ``u`` is ``(1, 1, H, W)``; returns ``(Tx, Ty)`` shaped like ``u``.
    """
    from scipy import ndimage

    # central-difference gradients locate edges and their direction
    pad = F.pad(u, (1, 1, 1, 1), mode="replicate")
    cx = (pad[..., 1:-1, 2:] - pad[..., 1:-1, :-2]) / 2
    cy = (pad[..., 2:, 1:-1] - pad[..., :-2, 1:-1]) / 2
    mag = torch.sqrt(cx * cx + cy * cy)
    angle = torch.remainder(torch.atan2(cy, cx), math.pi)
    sector = torch.round(angle / (math.pi / 4)).long() % 4  # 0: horizontal gradient, 1: 45, 2: vertical, 3: 135
    mp = F.pad(mag, (1, 1, 1, 1))
    h, w = u.shape[-2:]
    neighbours = {
        0: (mp[..., 1:-1, 2:], mp[..., 1:-1, :-2]),
        1: (mp[..., 2:, 2:], mp[..., :-2, :-2]),
        2: (mp[..., 2:, 1:-1], mp[..., :-2, 1:-1]),
        3: (mp[..., 2:, :-2], mp[..., :-2, 2:]),
    }
    is_max = torch.zeros_like(mag, dtype=torch.bool)
    for k, (a, b) in neighbours.items():
        is_max |= (sector == k) & (mag >= a) & (mag >= b)
    edges = is_max & (mag > edge_threshold)
    if not bool(edges.any()):
        return _gradients(u)
    # edge contrast and sharpness sigma_l = C / (sqrt(2 pi) m)
    k = 2 * contrast_radius + 1
    contrast = F.max_pool2d(u, k, 1, contrast_radius) + F.max_pool2d(-u, k, 1, contrast_radius)
    sigma_l = (contrast / (math.sqrt(2 * math.pi) * mag.clamp_min(1e-6))).clamp(0.5, 5.0)
    # nearest edge centre of every pixel
    dist, (iy, ix) = ndimage.distance_transform_edt(~edges[0, 0].numpy(), return_indices=True)
    dist_t = torch.from_numpy(dist).to(u.dtype)[None, None]
    nearest = torch.from_numpy((iy * w + ix).astype(np.int64))
    sl = sigma_l.reshape(-1)[nearest.reshape(-1)].reshape(1, 1, h, w)
    sh = (kappa * sl).clamp_min(0.3)
    ratio = (_profile_density(dist_t, sh, shape) / _profile_density(dist_t, sl, shape)).clamp(max=max_ratio)
    ratio = torch.where(dist_t <= max_distance, ratio, torch.ones_like(ratio))
    gx, gy = _gradients(u)
    return ratio * gx, ratio * gy


def gpp_energy(
    x: torch.Tensor, lr: torch.Tensor, scale: float, target: tuple[torch.Tensor, torch.Tensor], *, beta: float
) -> torch.Tensor:
    """``E(x)`` of step 5 (a 0-d tensor)."""
    data = ((_downscale_to(x, tuple(lr.shape[-2:]), scale) - lr) ** 2).mean()
    gx, gy = _gradients(x)
    prior = ((gx - target[0]) ** 2 + (gy - target[1]) ** 2).mean()
    return data + beta * prior


def gpp_solve(
    lr: torch.Tensor,
    scale: float,
    *,
    beta: float = 0.05,
    iterations: int = 30,
    **profile_options,
) -> tuple[torch.Tensor, list[float]]:
    """Steps 1-5 for a ``(1, 1, H, W)`` LR image; returns ``(x, energies)`` (``energies[0]``: bicubic)."""
    with torch.inference_mode(False), torch.enable_grad():
        y = lr.detach().clone()
        u = imresize_matlab(y, scale).detach()
        target = sharpened_gradients(u, **profile_options)

        def grad(z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            z = z.detach().requires_grad_(True)
            e = gpp_energy(z, y, scale, target, beta=beta)
            (g,) = torch.autograd.grad(e, z)
            return e.detach(), g

        x = u
        e, g = grad(x)
        _, g_zero = grad(torch.zeros_like(x))  # E is quadratic: H v = grad(v) - grad(0)
        energies = [float(e)]
        r = -g
        p = r.clone()
        rr = (r * r).sum()
        for _ in range(iterations):
            hp = grad(p)[1] - g_zero
            php = (p * hp).sum()
            if float(php) <= 0 or float(rr) == 0:
                break
            alpha = rr / php
            x = x + alpha * p
            r = r - alpha * hp
            rr_new = (r * r).sum()
            p = r + (rr_new / rr) * p
            rr = rr_new
            energies.append(float(gpp_energy(x, y, scale, target, beta=beta)))
    return x.detach(), energies


class GPP(YChannelMethod):
    """``gpp``: bicubic, sharpen the gradient profiles, reconstruct (gradient domain + data term).

    Options: ``beta`` (gradient-term weight, 0.05), ``iterations`` (30 CG steps),
    ``kappa`` (sigma_h / sigma_l, 0.6), ``shape`` (profile lambda, 1.6),
    ``edge_threshold`` (0.02), ``max_distance`` (4 px), ``max_ratio`` (3).
    The energies of the last call are in ``last_energies``.
    """

    def __init__(self, *, beta: float = 0.05, iterations: int = 30, **profile_options: float) -> None:
        check_option_names(profile_options, sharpened_gradients, what="gpp", set_by_caller=("u",))
        self.beta = float(beta)
        self.iterations = int(iterations)
        self.profile_options = profile_options
        self.last_energies: list[float] = []
        self.info = MethodInfo(
            name="gpp",
            family="reconstruction",
            summary=f"gradient profile prior: sharpened gradient field + data term (beta={beta}), {iterations} CG steps",
            paper="Sun, Xu & Shum, Image super-resolution using gradient profile prior, CVPR 2008",
            year=2008,
            channels="y",
            receptive_radius=None,
        )

    def upscale_y(self, y: torch.Tensor, scale: float) -> torch.Tensor:
        """Solve :func:`gpp_solve` for each image of the batch; the last one's energies are kept in ``last_energies``."""
        def solve(image: torch.Tensor) -> torch.Tensor:
            x, self.last_energies = gpp_solve(
                image.to(torch.float64), scale, beta=self.beta, iterations=self.iterations, **self.profile_options
            )
            return x

        return each_image(y, solve).to(y.dtype)


def gpp(**options) -> GPP:
    """Registry factory for ``gpp``: :class:`GPP` with ``options``."""
    return GPP(**options)
