"""``btv``: L1 data term + bilateral total variation (Farsiu, Robinson, Elad, Milanfar 2004).

The SR image ``x`` (Y channel, HR grid) minimises

.. math::

    E(x) = \\frac{1}{N_{lr}} \\lVert D H x - y \\rVert_1
         + \\lambda \\frac{1}{N_{hr}} \\sum_{(l, m) \\in \\mathcal{P}} \\alpha^{|l| + |m|}
           \\lVert x - S_x^l S_y^m x \\rVert_1

where ``DH`` is the degradation of the protocol (MATLAB bicubic downscale,
unrounded), ``y`` the LR input, ``S_x^l S_y^m`` a shift by ``(l, m)`` pixels
and ``P`` the half plane of shifts with ``|l|, |m| <= P`` (each pair once).
Farsiu et al. solve it by steepest descent with the subgradient
(``sign`` of the residuals); so does this module, starting from bicubic, with
torch autograd giving the exact adjoint of the resize.  A step is kept only if
it lowers ``E`` (else it is halved), so the recorded energy decreases.

Paper: S. Farsiu, M. D. Robinson, M. Elad, P. Milanfar, "Fast and robust
multiframe super resolution", IEEE TIP 13(10), 2004 (single-frame case).
"""

from __future__ import annotations

import torch

from superres.methods.base import MethodInfo, YChannelMethod, each_image
from superres.methods.classical.back_projection import _downscale_to
from superres.ops.resize import imresize_matlab

__all__ = ["BTV", "btv", "btv_energy", "btv_solve"]


def _shifts(radius: int) -> list[tuple[int, int]]:
    return [(l, m) for m in range(0, radius + 1) for l in range(-radius, radius + 1) if m > 0 or l > 0]


def _btv_prior(x: torch.Tensor, radius: int, alpha: float) -> torch.Tensor:
    """Mean bilateral TV of ``(B, 1, H, W)`` ``x`` (each shift over its valid overlap)."""
    h, w = x.shape[-2:]
    total = x.new_zeros(())
    for l, m in _shifts(radius):
        a = x[..., max(l, 0) : h + min(l, 0), m:]
        b = x[..., max(-l, 0) : h + min(-l, 0), : w - m]
        total = total + alpha ** (abs(l) + abs(m)) * (a - b).abs().sum()
    return total / x[0, 0].numel() / x.shape[0]


def btv_energy(
    x: torch.Tensor, lr: torch.Tensor, scale: float, *, lam: float, radius: int, alpha: float
) -> torch.Tensor:
    """``E(x)`` of the module docstring (a 0-d tensor)."""
    data = (_downscale_to(x, tuple(lr.shape[-2:]), scale) - lr).abs().mean()
    return data + lam * _btv_prior(x, radius, alpha)


def btv_solve(
    lr: torch.Tensor,
    scale: float,
    *,
    lam: float = 0.05,
    radius: int = 2,
    alpha: float = 0.7,
    iterations: int = 60,
    step: float = 4.0 / 255,
    decay: float = 0.97,
) -> tuple[torch.Tensor, list[float]]:
    """Minimise :func:`btv_energy` from the bicubic upscale of ``lr`` (``(B, 1, H, W)``).

    Each iteration moves ``x`` by ``step`` (an intensity, times the normalised
    subgradient) against the subgradient; the step decays by ``decay`` per
    iteration and is halved (up to 4 times) when the energy would rise, and the
    move is dropped if it still rises.  Returns ``(x, energies)``, ``energies[0]``
    being the bicubic start.
    """
    with torch.inference_mode(False), torch.enable_grad():
        y = lr.detach().clone()
        x = imresize_matlab(y, scale).detach()

        def energy_and_grad(z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            z = z.detach().requires_grad_(True)
            e = btv_energy(z, y, scale, lam=lam, radius=radius, alpha=alpha)
            (g,) = torch.autograd.grad(e, z)
            return e.detach(), g

        e, g = energy_and_grad(x)
        energies = [float(e)]
        for _ in range(iterations):
            direction = g / g.abs().amax().clamp_min(1e-20)  # the largest move is one step
            trial_step = step
            for _ in range(5):
                x_new = x - trial_step * direction
                e_new, g_new = energy_and_grad(x_new)
                if e_new <= e:
                    x, e, g = x_new, e_new, g_new
                    break
                trial_step /= 2
            energies.append(float(e))
            step *= decay
    return x.detach(), energies


class BTV(YChannelMethod):
    """``btv``: bicubic start, then subgradient descent on L1 data + bilateral TV.

    Options: ``lam`` (prior weight, 0.05), ``radius`` (P, 2), ``alpha`` (0.7),
    ``iterations`` (60), ``step`` (largest per-pixel move of the first step, 4/255),
    ``decay`` (0.97 per iteration).  The energies of the last image solved are in
    ``last_energies``.
    """

    def __init__(
        self,
        *,
        lam: float = 0.05,
        radius: int = 2,
        alpha: float = 0.7,
        iterations: int = 60,
        step: float = 4.0 / 255,
        decay: float = 0.97,
    ) -> None:
        self.options = dict(lam=float(lam), radius=int(radius), alpha=float(alpha),
                            iterations=int(iterations), step=float(step), decay=float(decay))
        self.last_energies: list[float] = []
        self.info = MethodInfo(
            name="btv",
            family="reconstruction",
            summary=f"L1 data + bilateral TV (P={radius}, alpha={alpha}, lambda={lam}), {iterations} subgradient steps",
            paper="Farsiu, Robinson, Elad & Milanfar, Fast and robust multiframe super resolution, IEEE TIP 2004",
            year=2004,
            channels="y",
            receptive_radius=None,
        )

    def upscale_y(self, y: torch.Tensor, scale: float) -> torch.Tensor:
        """Solve the BTV problem for each image of the batch (each its own step sizes, as
        alone); the last one's energies are kept in ``last_energies``."""
        def solve(image: torch.Tensor) -> torch.Tensor:
            x, self.last_energies = btv_solve(image.to(torch.float32), scale, **self.options)
            return x

        return each_image(y, solve).to(y.dtype)


def btv(**options) -> BTV:
    """Registry factory for ``btv``: :class:`BTV` with ``options``."""
    return BTV(**options)
