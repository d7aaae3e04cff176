"""``scsr``: sparse-coding super-resolution (Yang, Wright, Huang & Ma, IEEE TIP 2010).

Per image, as Yang et al.'s ``ScSR.m`` + ``backprojection.m`` (on the 0..255 scale):

1. ``mid`` = MATLAB-bicubic upscale of the LR Y (rounded, as MATLAB resizes uint8);
2. every 5x5 patch of ``mid`` on the grid of ``ScSR.m`` (step ``5 - overlap``,
   a 2-pixel border left out) gives a 100-d feature from the four gradient
   maps; a feature with norm > 1 is normalised to unit norm;
3. all features are coded at once: ``min_a 0.5||y - Dl a||^2 + lambda ||a||_1``
   (lambda 0.2, ``Dl`` with unit-norm atoms) by the working-set coordinate
   descent of :mod:`~superres.methods.sparse_coding.solvers` with the Gram
   matrix ``Dl^T Dl`` computed once.  By default it stops after 5 sweeps over
   the 32 most correlated atoms, visited in order of correlation, with no
   optimality-check round: on Set5 bird and butterfly at x3 that is within
   0.13 dB of the exact lasso at a fifth of its CPU time
   (``benchmarks/scsr_lasso_settings.py``, docs/sparse_coding.md);
   ``max_rounds=4, max_sweeps=50, polish=True`` gives the exact lasso;
4. HR patch ``= Dh a`` rescaled to ``1.2 *`` the norm of the mean-removed ``mid``
   patch, plus that patch's mean; overlapping patches are averaged, pixels
   no patch covers keep ``mid``; the result is rounded to uint8 like Yang's;
5. back-projection (:func:`~superres.methods.classical.back_projection.back_project`,
   20 iterations) makes its bicubic downscale agree with the LR input; as in Yang's
   ``backprojection.m``, each upscaled residual is filtered (``conv2 'same'``) with
   ``fspecial('gaussian', 5, 1)`` squared and renormalised before it is added.

x4 (any power of two above 2) runs by default as repeated x2 steps with the x2
dictionary, each step's uint8 output the next one's input, then a last
back-projection against the LR input at the full factor.  On ten held-out BSD200
images at x4 (training images the T91 dictionaries never saw) that scored 26.75 dB
against 26.60 for the x4 dictionary applied once (docs/sparse_coding.md);
``cascade=False`` applies the scale's own dictionary.

Dictionaries are shipped as ``scsr-dict.<tag>.safetensors`` (tensors ``high``
``(25, m)`` and ``low`` ``(100, m)``) with a card that says ``"method": "scsr"``
and its scale; train them with ``python -m superres.methods.sparse_coding.dictionary``.
"""

from __future__ import annotations

import math

import torch

from superres.errors import InvalidArgumentError, WeightsError
from superres.methods.base import MethodInfo, YChannelMethod, each_image
from superres.methods.classical.back_projection import back_project
from superres.methods.sparse_coding.features import extract_patches, gradient_features, patch_grid
from superres.methods.sparse_coding.solvers import lasso_working_set
from superres.ops.color import round_half_away
from superres.ops.filters import gaussian_window
from superres.ops.resize import imresize_matlab

__all__ = ["SparseCodingSR", "scsr", "sparse_code_upscale", "YANG_BACKPROJECTION_KERNEL"]


def _yang_kernel() -> torch.Tensor:
    p = gaussian_window(5, 1.0) ** 2  # backprojection.m: p = fspecial('gaussian', 5, 1); p = p.^2; p = p./sum(p(:))
    return p / p.sum()


#: the filter Yang et al.'s backprojection.m puts on each upscaled residual
YANG_BACKPROJECTION_KERNEL = _yang_kernel()

PAPER = "Yang, Wright, Huang & Ma, Image super-resolution via sparse representation, IEEE TIP 2010"


def sparse_code_upscale(
    lr: torch.Tensor,
    scale: float,
    high: torch.Tensor,
    low: torch.Tensor,
    *,
    lam: float = 0.2,
    overlap: int = 4,
    contrast: float = 1.2,
    backprojection_iterations: int = 20,
    working_size: int = 32,
    max_rounds: int = 1,
    max_sweeps: int = 5,
    polish: bool = False,
    chunk: int = 8192,
) -> torch.Tensor:
    """Yang et al.'s reconstruction of one LR Y image.

    Args:
        lr: ``(1, 1, h, w)`` LR Y on the **0..255** scale (uint8 values as float).
        scale: upscaling factor.
        high, low: ``(p*p, m)`` and ``(4*p*p, m)`` coupled dictionaries.
        lam: lasso weight (Yang's test code: 0.2).
        overlap: patch overlap (4 with 5x5 patches: a patch at every pixel).
        contrast: the HR patch norm is ``contrast`` times the mean-removed
            bicubic patch's (Yang's ``lin_scale``: 1.2).
        backprojection_iterations: global back-projection steps (Yang: 20).
        working_size, max_rounds, max_sweeps, polish, chunk: passed to
            :func:`~superres.methods.sparse_coding.solvers.lasso_working_set`.

    Returns:
        ``(1, 1, H, W)`` float64 SR Y, 0..255, not clipped.
    """
    lr = lr.to(torch.float64)
    mid = round_half_away(imresize_matlab(lr, scale)).clamp(0, 255)
    H, W = mid.shape[-2:]
    p = int(round(high.shape[0] ** 0.5))
    if p * p != high.shape[0] or low.shape[0] != 4 * p * p or low.shape[1] != high.shape[1]:
        raise WeightsError(f"dictionary shapes {tuple(high.shape)} / {tuple(low.shape)} are not (p*p, m) / (4*p*p, m)")
    rows = torch.tensor(patch_grid(H, p, overlap), dtype=torch.long)
    cols = torch.tensor(patch_grid(W, p, overlap), dtype=torch.long)
    if rows.numel() == 0 or cols.numel() == 0:
        return back_project(mid, lr, scale, iterations=backprojection_iterations, smoothing=YANG_BACKPROJECTION_KERNEL)

    dtype = low.dtype
    Dl = low / low.norm(dim=0, keepdim=True).clamp(min=1e-12)
    Dh = high.to(dtype)
    gram = Dl.T @ Dl
    mid32 = mid[0, 0].to(dtype)
    fea = gradient_features(mid.to(dtype))[0]
    acc = torch.zeros(H * W, dtype=torch.float64)
    cnt = torch.zeros(H * W, dtype=torch.float64)
    rr, cc = torch.meshgrid(rows, cols, indexing="ij")
    rr, cc = rr.flatten(), cc.flatten()
    offsets = (torch.arange(p).view(p, 1) * W + torch.arange(p).view(1, p)).flatten()
    for start in range(0, rr.numel(), chunk):
        r, c = rr[start:start + chunk], cc[start:start + chunk]
        patches = extract_patches(mid32.unsqueeze(0), r, c, p)
        mean = patches.mean(dim=1, keepdim=True)
        m_norm = (patches - mean).norm(dim=1, keepdim=True)
        y = extract_patches(fea, r, c, p)
        f_norm = y.norm(dim=1, keepdim=True)
        y = torch.where(f_norm > 1, y / f_norm.clamp(min=1e-12), y)
        codes = lasso_working_set(
            Dl, y, lam, gram=gram, working_size=working_size, max_rounds=max_rounds, max_sweeps=max_sweeps,
            polish=polish, chunk=chunk,
        )
        hp = codes @ Dh.T
        h_norm = hp.norm(dim=1, keepdim=True)
        hp = torch.where(h_norm > 0, hp * (contrast * m_norm / h_norm.clamp(min=1e-12)), hp) + mean
        index = ((r * W + c).view(-1, 1) + offsets.view(1, -1)).flatten()
        acc.index_add_(0, index, hp.flatten().to(torch.float64))
        cnt.index_add_(0, index, torch.ones(index.numel(), dtype=torch.float64))
    flat_mid = mid.flatten()
    covered = cnt > 0
    sr = torch.where(covered, acc / cnt.clamp(min=1), flat_mid).view(1, 1, H, W)
    sr = round_half_away(sr).clamp(0, 255)  # Yang's uint8(hIm)
    return back_project(sr, lr, scale, iterations=backprojection_iterations, smoothing=YANG_BACKPROJECTION_KERNEL)


class SparseCodingSR(YChannelMethod):
    """``scsr``: Yang et al.'s sparse-coding SR on the Y channel, one coupled dictionary per scale.

    Call contract: ``(B, C, H, W)`` float in ``[0, 1]`` in, ``(B, C, sH, sW)`` out
    (see :class:`~superres.methods.base.SRMethod`).  Like Yang's demo, the Y
    channel is taken as uint8 (``rgb2ycbcr`` on the uint8 image).
    """

    round_y_input = True

    def __init__(
        self,
        *,
        weights: dict[float, str] | str | None = None,
        lam: float = 0.2,
        overlap: int = 4,
        contrast: float = 1.2,
        backprojection_iterations: int = 20,
        working_size: int = 32,
        max_rounds: int = 1,
        max_sweeps: int = 5,
        polish: bool = False,
        cascade: bool = True,
    ) -> None:
        from superres.methods.learned import weights_for_method, weights_from_file

        if isinstance(weights, str):
            weights = weights_from_file(weights, "scsr")
        self.weights = dict(weights) if weights is not None else weights_for_method("scsr")
        if not 0 <= overlap < 5:
            raise InvalidArgumentError(f"overlap must be in 0..4 for 5x5 patches, got {overlap}")
        for name, value in (("working_size", working_size), ("max_rounds", max_rounds), ("max_sweeps", max_sweeps)):
            if not value >= 1:  # said now, not at the first image
                raise InvalidArgumentError(f"{name} must be at least 1, got {value}")
        self.options = dict(
            lam=float(lam), overlap=int(overlap), contrast=float(contrast),
            backprojection_iterations=int(backprojection_iterations), working_size=int(working_size),
            max_rounds=int(max_rounds), max_sweeps=int(max_sweeps), polish=bool(polish),
        )
        self.cascade = bool(cascade)
        self._dicts: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
        self.info = MethodInfo(
            name="scsr",
            family="sparse-coding",
            summary="coupled-dictionary sparse coding of 5x5 patches (lambda 0.2) + back-projection; x4 as two x2 steps",
            paper=PAPER,
            year=2010,
            channels="y",
            scales=tuple(sorted(self.weights)) if self.weights else (),
            trainable=True,
            receptive_radius=None,
            extra={"weights": {f"x{s:g}": n for s, n in sorted(self.weights.items())}},
        )

    def x2_steps(self, scale: float) -> int:
        """How many x2 steps make ``scale`` (0: the scale's own dictionary is applied once)."""
        steps = math.log2(scale) if scale > 2 else 0.0
        if self.cascade and 2.0 in self.weights and steps.is_integer():
            return int(steps)
        return 0

    def weights_for_scale(self, scale: float) -> str:
        """Name (or path) of the dictionary used at ``scale``."""
        scale = float(scale)
        if self.x2_steps(scale):
            return self.weights[2.0]
        if scale not in self.weights:
            raise InvalidArgumentError(f"scsr has no dictionary for x{scale:g} (have: {sorted(self.weights)})")
        return self.weights[scale]

    def dictionary(self, scale: float) -> tuple[torch.Tensor, torch.Tensor]:
        """``(high, low)`` of the dictionary used at ``scale`` (loaded and checked on first use)."""
        from superres.weights.store import load_weights

        name = self.weights_for_scale(scale)
        if name not in self._dicts:
            entry = load_weights(name)
            if "high" not in entry.tensors or "low" not in entry.tensors:
                raise WeightsError(f"{name}: expected tensors 'high' and 'low'")
            self._dicts[name] = (entry.tensors["high"].float(), entry.tensors["low"].float())
        return self._dicts[name]

    def upscale_y(self, y: torch.Tensor, scale: float) -> torch.Tensor:
        """Yang et al.'s reconstruction of each image: at ``scale`` at once, or in :meth:`x2_steps` then back-projection."""
        high, low = self.dictionary(scale)
        steps = self.x2_steps(scale)

        def upscale_one(image: torch.Tensor) -> torch.Tensor:
            lr = image.to(torch.float64) * 255
            if not steps:
                return sparse_code_upscale(lr, scale, high, low, **self.options) / 255
            sr = lr
            for _ in range(steps):  # each step's output is an 8-bit image, as Yang's code writes it
                sr = round_half_away(sparse_code_upscale(sr, 2.0, high, low, **self.options)).clamp(0, 255)
            return back_project(sr, lr, scale, iterations=self.options["backprojection_iterations"],
                                smoothing=YANG_BACKPROJECTION_KERNEL) / 255

        return each_image(y, upscale_one).to(y.dtype)


def scsr(*, weights: dict[float, str] | str | None = None, **options) -> SparseCodingSR:
    """Registry factory for ``scsr`` (``weights``: a dictionary file or ``{scale: file}``)."""
    return SparseCodingSR(weights=weights, **options)
