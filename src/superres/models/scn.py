"""SCN and cascaded SCN (Wang, Liu, Han, Huang: Deep networks for image super-resolution
with sparse prior, ICCV 2015).

SCN is Yang et al.'s sparse-coding SR (``scsr``) written as a network, every
step a convolution over the bicubic-upscaled Y image ``x`` (``(B, 1, H, W)``
in [0, 1]); with ``p = hr_patch`` and ``r = p // 2``:

1. **H**, patch features: a ``lr_patch x lr_patch`` convolution with
   ``features`` filters (no bias) gives at every pixel the feature vector of
   the patch centred there.  With Yang's features (``p = 5``) the four gradient
   maps of :func:`~superres.methods.sparse_coding.features.gradient_features`
   over the ``5 x 5`` patch are 100 filters of ``9 x 9`` support, so H holds
   them exactly (:func:`yang_feature_filters`).
2. **Normalisation**: ``n = sqrt(||f||^2 + eps^2)`` over the channels and
   ``u = f / n``: a unit-norm feature wherever ``||f|| >> eps`` (Yang
   normalises features whose norm exceeds 1 on the 0..255 scale; ``eps``
   defaults to that, 1/255 on our [0, 1] scale), smooth at ``f = 0``.
3. **LISTA** (Gregor & LeCun 2010) with ``stages`` recurrent stages sharing
   ``S``: ``b = W u``, ``z_0 = shrink(b, theta)``,
   ``z_{k+1} = shrink(b + S z_k, theta)``, with ``W`` and ``S`` 1x1
   convolutions (no bias), a learnable threshold per atom and
   ``shrink(a, t) = sign(a) relu(|a| - t)``
   (:func:`~superres.methods.sparse_coding.solvers.soft_threshold`).
4. **Dx**: a 1x1 convolution from the code to the ``p x p`` HR patch at every
   pixel (channel ``i * p + j`` is the pixel at offset ``(i - r, j - r)``).
5. **De-normalisation**, two ways (``denorm``), ``mean`` being the mean of
   ``x`` over the ``p x p`` window centred there; both make the prediction
   homogeneous in the patch contrast:

   * ``"feature"`` (default, the shipped weights): patch = ``n * Dx z + mean``,
     the feature norm ``n`` of step 2 times the predicted patch;
   * ``"patch"`` (Yang's ``lin_scale`` and the SCN authors' released test code):
     ``Dx z`` scaled to unit norm, times ``contrast`` (their 1.1; Yang's
     ``scsr`` uses 1.2) times the norm of ``x``'s mean-removed ``p x p`` patch,
     plus ``mean``: Dx gives only the direction of the HR patch.
6. **G**, patch combination: a ``p x p`` convolution from the ``p^2``
   patch channels to one, initialised to the average of the ``p^2``
   overlapping predictions of each pixel (learnable).

Borders: ``x`` is replicate-padded before H and the mean, and the patch map
before G, so the output has the input's size.  The receptive radius
(:attr:`SCN.border`) is ``lr_patch // 2 + hr_patch // 2``.

Dictionary start (:meth:`SCN.from_dictionary`): with Yang's coupled
dictionaries ``high (p^2, m)`` and ``low (4 p^2, m)`` and ``Dl`` the columns of
``low`` normalised to unit norm (as ``scsr`` codes), ``L = ||Dl||_2^2`` and
``C = 1 / L``: ``W = C Dl^T``, ``S = I - C Dl^T Dl``, ``theta = lambda C``, so
that the codes are exactly ``stages + 1`` iterations of ISTA
(:func:`~superres.methods.sparse_coding.solvers.ista`) from zero on the
normalised features; ``Dx = g * high / ||low_j||`` (each coupled atom scaled
as its LR half is; ``g = 2`` from Yang's joint normalisation, see
:meth:`SCN.from_dictionary`), and ``g``, the HR-patch norm per unit feature
norm, is then refitted in closed form on training patches
(:meth:`SCN.calibrate_gain`): after a few ISTA steps the codes are still far
from the lasso optimum, so the ratio is only approximately Yang's.  With the
shipped 1024-atom x2 dictionary and one stage this start scores 34.42 dB on
Set5 x2 before any training (bicubic: 33.64): ``python -m superres.models.scn
scsr-dict.T91-1024-x2 -o start.safetensors --scale 2 --stages 1``, then ``superres
evaluate -m scn=start.safetensors -d Set5 -s 2 --mean-only``.

:class:`CascadeSCN` (CSCN): an x2 SCN applied ``ceil(log2 s)`` times, each time
after a MATLAB bicubic x2 of the current image, then a MATLAB bicubic resize by
``s / 2^n`` to the requested size; one weights file serves every factor.

Command (writes SCN weights initialised from a coupled dictionary, gain fitted
on the training images; the ``init_from`` of ``recipes/scn-x2.toml``)::

    python -m superres.models.scn runs/scn-dict/scsr-dict.T91-128-x2.safetensors \\
        -o runs/scn-dict/scn-init.T91-128-x2.safetensors --scale 2 --stages 1
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from superres.errors import InvalidArgumentError, OneLineParser, WeightsError, one_line_errors
from superres.methods.sparse_coding.features import extract_patches, gradient_features
from superres.methods.sparse_coding.solvers import lipschitz_constant, soft_threshold
from superres.models.layers import MatlabBicubicUpsample
from superres.ops.resize import imresize_matlab

__all__ = ["SCN", "CascadeSCN", "yang_feature_filters", "averaging_kernel", "write_dictionary_start", "main"]

#: lasso weight of Yang's reconstruction (``ScSR.m``), used for the dictionary start
YANG_LAMBDA = 0.2
#: threshold scale of the random start (a random dictionary with lambda 0.2 codes almost nothing)
RANDOM_LAMBDA = 0.05
#: how a predicted patch gets its contrast back (:class:`SCN`, step 5 of the module docstring)
DENORMS = ("feature", "patch")
#: ``denorm="patch"``: floor of the input patch's contrast (1/10000 of the [0, 1] range; a flat
#: patch has none to give, and the floor keeps the square root's gradient finite there) and of
#: ``||Dx z||``, far below its working size (codes of 0 give the patch mean alone, as in Yang's)
_CONTRAST_FLOOR = 1e-4
_DIRECTION_FLOOR = 1e-6


def yang_feature_filters(hr_patch: int = 5, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Yang's LR features of a ``hr_patch`` patch as ``(4 p^2, 1, p + 4, p + 4)`` convolution filters.

    Feature ``(c, i, j)`` (the flattening of
    :func:`~superres.methods.sparse_coding.features.extract_patches`) at pixel
    ``q`` is gradient map ``c`` at ``q + (i - p//2, j - p//2)``.  Built by feeding
    unit impulses through :func:`gradient_features` and :func:`extract_patches`
    (both linear), so it is the same operator by construction.
    """
    k = hr_patch + 4
    impulses = torch.eye(k * k, dtype=dtype).view(k * k, 1, k, k)
    maps = gradient_features(impulses)  # (k*k, 4, k, k)
    centre = torch.tensor([2])
    # feature vector of the patch centred at (k//2, k//2), for an impulse at each position
    rows = [extract_patches(maps[n], centre, centre, hr_patch) for n in range(k * k)]
    return torch.cat(rows).T.reshape(4 * hr_patch * hr_patch, 1, k, k).contiguous()


def averaging_kernel(hr_patch: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """G's start ``(1, p^2, p, p)``: each output pixel averages the ``p^2`` patch predictions covering it.

    Channel ``(i, j)`` at pixel ``q`` predicts pixel ``q + (i - r, j - r)``, so the
    output at ``q`` reads channel ``(i, j)`` at ``q - (i - r, j - r)``, i.e. kernel
    tap ``(p - 1 - i, p - 1 - j)`` of a (correlating) convolution.
    """
    p = hr_patch
    kernel = torch.zeros(1, p * p, p, p, dtype=dtype)
    for i in range(p):
        for j in range(p):
            kernel[0, i * p + j, p - 1 - i, p - 1 - j] = 1.0 / (p * p)
    return kernel


class SCN(nn.Module):
    """Sparse-coding network on the bicubic-upscaled Y; input and output ``(B, 1, H, W)``.

    Args:
        features: filters of H (Yang: 100).
        atoms: dictionary size (codes per pixel).
        lr_patch: H's kernel side (Yang's features of 5x5 patches: 9).
        hr_patch: side of the HR patch predicted at every pixel (odd).
        stages: LISTA recurrent stages after ``z_0`` (codes = ``stages + 1`` ISTA steps at the dictionary start).
        eps: floor of the feature norm (module docstring, step 2).
        denorm: ``"feature"`` or ``"patch"``, how a patch gets its contrast back (module docstring, step 5).
        contrast: with ``denorm="patch"``, the HR patch norm per unit norm of the mean-removed input patch.

    The random start (default) is LISTA's start from a random unit-norm
    dictionary (threshold ``0.05 / L``), He-normal H, ``N(0, 1/atoms)`` Dx and
    averaging G; :meth:`from_dictionary` gives the sparse-coding start.
    """

    def __init__(
        self,
        features: int = 100,
        atoms: int = 128,
        lr_patch: int = 9,
        hr_patch: int = 5,
        stages: int = 1,
        eps: float = 1 / 255,
        denorm: str = "feature",
        contrast: float = 1.1,
    ) -> None:
        super().__init__()
        if lr_patch % 2 == 0 or hr_patch % 2 == 0:
            raise InvalidArgumentError(f"patch sides must be odd, got lr_patch={lr_patch}, hr_patch={hr_patch}")
        if stages < 0 or features < 1 or atoms < 1:
            raise InvalidArgumentError(f"need features, atoms >= 1 and stages >= 0, got {features}, {atoms}, {stages}")
        if denorm not in DENORMS:
            raise InvalidArgumentError(f"denorm must be one of {', '.join(DENORMS)}, got {denorm!r}")
        if not contrast > 0:
            raise InvalidArgumentError(f"contrast must be above 0, got {contrast}")
        self.features, self.atoms = int(features), int(atoms)
        self.lr_patch, self.hr_patch, self.stages = int(lr_patch), int(hr_patch), int(stages)
        self.eps = float(eps)
        self.denorm, self.contrast = denorm, float(contrast)
        self.H = nn.Conv2d(1, features, lr_patch, bias=False)
        self.W = nn.Conv2d(features, atoms, 1, bias=False)
        self.S = nn.Conv2d(atoms, atoms, 1, bias=False)
        self.theta = nn.Parameter(torch.empty(atoms))
        self.Dx = nn.Conv2d(atoms, hr_patch * hr_patch, 1, bias=False)
        self.G = nn.Conv2d(hr_patch * hr_patch, 1, hr_patch, bias=False)
        nn.init.kaiming_normal_(self.H.weight)
        dictionary = F.normalize(torch.randn(features, atoms, dtype=torch.float64), dim=0)
        self.set_lista(dictionary, RANDOM_LAMBDA)
        nn.init.normal_(self.Dx.weight, std=atoms**-0.5)
        with torch.no_grad():
            self.G.weight.copy_(averaging_kernel(hr_patch))

    @property
    def border(self) -> int:
        """Receptive radius in pixels of the (upscaled) input: H's and G's."""
        return self.lr_patch // 2 + self.hr_patch // 2

    def working_bytes_per_input_pixel(self, scale: float | None = None) -> float:
        """Peak bytes of ``forward`` per input pixel, for the tiler's memory budget.

        More maps live at once than in a plain chain of convolutions: the features,
        their square and their normalised copy, the codes through LISTA's shrinkage,
        the patch layer. Counted as 3 feature maps, 4 code maps and 2 patch maps of
        float32: 3448 bytes at the default sizes, where a 300x300 x2 crop measured
        about 2800 (VmHWM, fp32, one thread).
        """
        return 4.0 * (3 * self.features + 4 * self.atoms + 2 * self.hr_patch**2)

    # ----- initialisation ------------------------------------------------------------
    @torch.no_grad()
    def set_lista(self, dictionary: torch.Tensor, lam: float) -> float:
        """W, S and theta for ISTA on ``dictionary`` ``(features, atoms)`` with weight ``lam``; returns ``L``."""
        D = dictionary.to(torch.float64)
        L = lipschitz_constant(D)
        self.W.weight.copy_((D.T / L).view(self.atoms, self.features, 1, 1))
        self.S.weight.copy_((torch.eye(self.atoms, dtype=torch.float64) - D.T @ D / L).view(self.atoms, self.atoms, 1, 1))
        self.theta.fill_(lam / L)
        return L

    @classmethod
    def from_dictionary(
        cls,
        high: torch.Tensor,
        low: torch.Tensor,
        *,
        lam: float = YANG_LAMBDA,
        stages: int = 1,
        eps: float = 1 / 255,
        gain: float | None = None,
        denorm: str = "feature",
        contrast: float = 1.1,
    ) -> "SCN":
        """SCN started from Yang's coupled dictionary ``high (p^2, m)``, ``low (4 p^2, m)`` (module docstring).

        ``gain`` multiplies Dx.  Default ``sqrt(4 p^2 / p^2) = 2``: in Yang's joint
        training signals the HR half has norm ``sqrt(p^2)`` and the LR half
        ``sqrt(4 p^2)``, so a unit LR feature coded on the normalised ``Dl`` maps to
        a unit-norm HR direction through ``2 high / ||low_j||``.  Fit it on
        training patches with :meth:`calibrate_gain` (2.136 with the shipped 1024-atom
        x2 dictionary and one stage: the command of the module docstring prints it).
        """
        p = math.isqrt(high.shape[0])
        if high.dim() != 2 or low.dim() != 2 or p * p != high.shape[0] or low.shape != (4 * p * p, high.shape[1]):
            raise WeightsError(f"dictionary shapes {tuple(high.shape)} / {tuple(low.shape)} are not (p*p, m) / (4*p*p, m)")
        model = cls(features=4 * p * p, atoms=high.shape[1], lr_patch=p + 4, hr_patch=p, stages=stages, eps=eps,
                    denorm=denorm, contrast=contrast)
        norms = low.to(torch.float64).norm(dim=0).clamp(min=1e-12)
        model.set_lista(low.to(torch.float64) / norms, lam)
        with torch.no_grad():
            model.H.weight.copy_(yang_feature_filters(p))
            if gain is None:
                gain = math.sqrt(low.shape[0] / high.shape[0])
            model.Dx.weight.copy_((gain * high.to(torch.float64) / norms).view(p * p, -1, 1, 1))
        return model

    @torch.no_grad()
    def calibrate_gain(self, inputs: torch.Tensor, targets: torch.Tensor) -> float:
        """Scale Dx by the least-squares factor for ``targets`` (same size as ``inputs``); returns the factor.

        The output is ``G(mean) + G(n * Dx z)``, linear in Dx, so the best factor
        is ``<t - G(mean), G(n Dx z)> / ||G(n Dx z)||^2``.  With ``denorm="patch"`` Dx gives only
        a direction, and there is no gain to fit.
        """
        if self.denorm != "feature":
            raise InvalidArgumentError(f"calibrate_gain fits the output of denorm='feature', not {self.denorm!r}")
        u, norm = self.normalised_features(inputs)
        z = self.codes(u)
        base = self.aggregate(self.patch_mean(inputs).expand(-1, self.hr_patch**2, -1, -1))
        detail = self.aggregate(norm * self.Dx(z))
        t = targets.to(detail.dtype)
        factor = float(((t - base) * detail).sum() / (detail * detail).sum().clamp(min=1e-20))
        self.Dx.weight.mul_(factor)
        return factor

    # ----- the network ---------------------------------------------------------------
    def normalised_features(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(u, n)``: H's features divided by ``n = sqrt(||f||^2 + eps^2)``, and ``n`` ``(B, 1, H, W)``."""
        r = self.lr_patch // 2
        f = self.H(F.pad(x, (r, r, r, r), mode="replicate"))
        norm = torch.sqrt((f * f).sum(1, keepdim=True) + self.eps**2)
        return f / norm, norm

    def codes(self, u: torch.Tensor) -> torch.Tensor:
        """LISTA codes ``(B, atoms, H, W)`` of normalised features."""
        theta = self.theta.view(1, -1, 1, 1)
        b = self.W(u)
        z = soft_threshold(b, theta)
        for _ in range(self.stages):
            z = soft_threshold(b + self.S(z), theta)
        return z

    def patch_mean(self, x: torch.Tensor) -> torch.Tensor:
        """Mean of ``x`` over the ``hr_patch`` window centred at every pixel."""
        r = self.hr_patch // 2
        return F.avg_pool2d(F.pad(x, (r, r, r, r), mode="replicate"), self.hr_patch, stride=1)

    def patch_contrast(self, x: torch.Tensor, mean: torch.Tensor | None = None) -> torch.Tensor:
        """Norm of ``x``'s mean-removed ``hr_patch x hr_patch`` patch centred at every pixel (floored);
        ``mean``: :meth:`patch_mean` of ``x``, when the caller has it already."""
        mean = self.patch_mean(x) if mean is None else mean
        variance = (self.patch_mean(x * x) - mean * mean).clamp(min=0)
        return torch.sqrt(self.hr_patch**2 * variance + _CONTRAST_FLOOR**2)

    def aggregate(self, patches: torch.Tensor) -> torch.Tensor:
        """G on the ``(B, p^2, H, W)`` patch map (replicate-padded): ``(B, 1, H, W)``."""
        r = self.hr_patch // 2
        return self.G(F.pad(patches, (r, r, r, r), mode="replicate"))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """SR of the bicubic-upscaled ``x``: the patches ``n * Dx(codes) + mean`` (or, with
        ``denorm="patch"``, Dx's unit direction times the input patch's contrast, plus the mean),
        aggregated by G."""
        u, norm = self.normalised_features(x)
        detail = self.Dx(self.codes(u))
        mean = self.patch_mean(x)
        if self.denorm == "patch":
            contrast = self.contrast * self.patch_contrast(x, mean)
            direction = detail / torch.sqrt((detail * detail).sum(1, keepdim=True) + _DIRECTION_FLOOR**2)
            return self.aggregate(contrast * direction + mean)
        return self.aggregate(norm * detail + mean)

    def load_initial_weights(self, tensors: dict[str, torch.Tensor], card: dict) -> None:
        """The trainer's ``model.init_from``: SCN weights, or a cascade's, whose first SCN is an x2
        SCN (convert dictionaries with this module's command)."""
        architecture = card.get("architecture")
        if architecture == "cscn":
            tensors = {name.removeprefix("scn.0."): t for name, t in tensors.items() if name.startswith("scn.0.")}
        elif architecture not in (None, "scn"):
            raise WeightsError(f"cannot start an SCN from {architecture!r} weights "
                               "(make SCN weights from a dictionary with `python -m superres.models.scn`)")
        check_same_denorm(self, card)
        self.load_state_dict(tensors, strict=True)


def check_same_denorm(model: SCN, card: dict) -> None:
    """Refuse a start whose card says another ``denorm``: the tensors would load, the meaning not."""
    theirs = (card.get("model_args") or {}).get("denorm", "feature")
    if theirs != model.denorm:
        raise WeightsError(f"these weights were made with denorm={theirs!r}; the model to start has "
                           f"denorm={model.denorm!r} (set model.args.denorm to match)")


class CascadeSCN(nn.Module):
    """CSCN: ``forward(lr, scale)`` on the LR Y ``(B, 1, h, w)`` -> ``(B, 1, ceil(s h), ceil(s w))``, any ``s >= 1``.

    Step ``k`` (``k = 0 .. ceil(log2 s) - 1``) is a MATLAB bicubic x2
    (:class:`~superres.models.layers.MatlabBicubicUpsample`) then SCN
    ``min(k, distinct - 1)``; a final MATLAB bicubic resize by ``s / 2^n``
    (by the factor, so tiles see the global sampling grid) gives the size.
    ``distinct=1`` shares one SCN between all steps; with more, the last one
    serves the extra steps of large factors.  The other arguments are each
    SCN's.
    """

    #: forward takes any factor; the learned-method adapter passes the requested one
    any_scale = True

    def __init__(
        self,
        features: int = 100,
        atoms: int = 128,
        lr_patch: int = 9,
        hr_patch: int = 5,
        stages: int = 1,
        eps: float = 1 / 255,
        distinct: int = 1,
        denorm: str = "feature",
        contrast: float = 1.1,
    ) -> None:
        super().__init__()
        if distinct < 1:
            raise InvalidArgumentError(f"distinct must be >= 1, got {distinct}")
        self.scn = nn.ModuleList(
            SCN(features, atoms, lr_patch, hr_patch, stages, eps, denorm, contrast) for _ in range(distinct)
        )
        self.upsample = MatlabBicubicUpsample(2)

    @staticmethod
    def steps(scale: float) -> int:
        """Number of x2 steps for ``scale``: ``ceil(log2 scale)`` (0 for scale 1)."""
        return max(0, math.ceil(math.log2(float(scale)) - 1e-9))

    @property
    def border(self) -> int:
        """Receptive radius in LR pixels, bounded over any number of steps.

        Step ``k`` reaches ``2 + ceil(b / 2)`` pixels of its input (bicubic taps,
        then the SCN's ``b`` output pixels), i.e. ``/ 2^k`` LR pixels: at most twice
        that in all; the final resize by ``s / 2^n`` (>= 1/2, antialiased) adds at most 2.
        """
        return 2 * (2 + math.ceil(self.scn[0].border / 2)) + 2

    def export_refusal(self, scale: float) -> str | None:
        """Why ONNX cannot hold the cascade at ``scale``, or None: the final resize of a factor
        that is not a power of 2 computes its sizes from the input's, in Python."""
        if float(scale) == 2.0 ** self.steps(scale):
            return None
        return (f"the cascade runs x{2 ** self.steps(scale)} and resizes for x{float(scale):g}, which ONNX cannot "
                "hold for any input size; export x2, x4 or x8 and resize outside")

    def working_bytes_per_input_pixel(self, scale: float) -> float:
        """Peak bytes per LR pixel: the last x2 step's SCN runs on ``4^steps`` pixels per LR pixel
        (x3 runs two steps, at x4, before resizing down)."""
        return 4.0 ** self.steps(scale) * self.scn[-1].working_bytes_per_input_pixel()

    def forward(self, lr: torch.Tensor, scale: float = 2.0,
                return_stages: bool = False) -> torch.Tensor | list[torch.Tensor]:
        """SR of ``lr`` at ``scale`` by x2 steps; ``return_stages``: every step's output (the last at the final size)."""
        n = self.steps(scale)
        x = lr
        outputs = []
        for k in range(n):
            x = self.scn[min(k, len(self.scn) - 1)](self.upsample(x))
            outputs.append(x)
        if float(scale) != 2.0**n:
            x = imresize_matlab(x, float(scale) / 2**n)
            if outputs:
                outputs[-1] = x
        return outputs if return_stages else x

    def stage_targets(self, hr: torch.Tensor, scale: float) -> list[torch.Tensor]:
        """Targets of ``forward(lr, scale, return_stages=True)``: ``hr`` MATLAB-bicubic resized to each step's size."""
        n = self.steps(scale)
        h, w = round(hr.shape[-2] / scale), round(hr.shape[-1] / scale)
        return [imresize_matlab(hr, size=(h * 2**k, w * 2**k)) for k in range(1, n)] + [hr]

    def load_initial_weights(self, tensors: dict[str, torch.Tensor], card: dict) -> None:
        """The trainer's ``model.init_from``: an x2 SCN's weights go to every SCN of the cascade."""
        check_same_denorm(self.scn[0], card)
        if card.get("architecture") == "scn":
            for net in self.scn:
                net.load_state_dict(tensors, strict=True)
        else:
            self.load_state_dict(tensors, strict=True)


# ----- command: SCN weights from a coupled dictionary ---------------------------------


def calibration_patches(scale: int, *, train: str = "T91", count: int = 256, patch: int = 41, data_dir: str | None = None,
                        seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """``count`` random (bicubic input, HR) training patches, as the trainer samples them."""
    from superres.data.datasets import training_images
    from superres.data.patches import PatchSampler, prepare_pairs

    pairs = prepare_pairs(training_images([train], data_dir=data_dir), [scale], input_mode="upsampled")
    sampler = PatchSampler(pairs, patch_size=patch, batch_size=count, augment=False, seed=seed)
    inputs, targets, _ = sampler.batch(0)
    return inputs, targets


def write_dictionary_start(
    dictionary: str | Path,
    output: str | Path,
    scale: int,
    *,
    stages: int = 1,
    lam: float = YANG_LAMBDA,
    calibrate_on: str = "T91",
    patches: int = 256,
    data_dir: str | None = None,
    command: str = "",
    denorm: str = "feature",
    contrast: float = 1.1,
) -> tuple[Path, float | None]:
    """SCN weights started from a coupled dictionary, Dx's gain fitted on training patches: ``(path, gain)``
    (``denorm="patch"``: Dx's direction alone counts, nothing is fitted and the gain is None)."""
    from superres.models.cost import count_parameters
    from superres.weights.store import load_weights, save_weights

    entry = load_weights(dictionary)
    if "high" not in entry.tensors or "low" not in entry.tensors:
        raise WeightsError(f"{entry.path.name}: expected tensors 'high' and 'low'")
    model = SCN.from_dictionary(entry.tensors["high"], entry.tensors["low"], lam=lam, stages=stages,
                                denorm=denorm, contrast=contrast)
    gain = None
    if denorm == "feature":
        inputs, targets = calibration_patches(scale, train=calibrate_on, count=patches, data_dir=data_dir)
        gain = 2.0 * model.calibrate_gain(inputs, targets)  # the fitted factor times from_dictionary's default 2
    model_args = {"features": model.features, "atoms": model.atoms, "lr_patch": model.lr_patch,
                  "hr_patch": model.hr_patch, "stages": model.stages}
    if denorm != "feature":
        model_args.update(denorm=denorm, contrast=contrast)
    card = {
        "architecture": "scn",
        "model_args": model_args,
        "input": "upsampled",
        "channels": "y",
        "scales": [scale],
        "params": count_parameters(model),
        "training": {
            "init": "coupled dictionary",
            "dictionary": entry.card.get("name", entry.path.stem),
            "lam": lam,
            "gain": gain,
            "calibration": f"{patches} 41x41 patches of {calibrate_on} x{scale}" if gain is not None else "none",
            "command": command,
        },
    }
    return save_weights(output, model.state_dict(), card), gain


@one_line_errors
def main(argv: list[str] | None = None) -> int:
    """``python -m superres.models.scn``: write SCN weights started from a coupled dictionary; returns the exit status."""
    parser = OneLineParser(
        prog="python -m superres.models.scn",
        description="Write SCN weights started from a coupled dictionary (Yang et al.), for a recipe's model.init_from.",
    )
    parser.add_argument("dictionary", help="coupled dictionary weights (tensors 'high' and 'low'), path or shipped name")
    parser.add_argument("-o", "--output", type=Path, required=True, help="SCN weights file to write (.safetensors)")
    parser.add_argument("--scale", type=int, required=True, help="scale of the calibration patches")
    parser.add_argument("--stages", type=int, default=1, help="LISTA recurrent stages")
    parser.add_argument("--lam", type=float, default=YANG_LAMBDA, help="lasso weight of the ISTA start")
    parser.add_argument("--calibrate-on", default="T91", help="training set for the output gain (closed form)")
    parser.add_argument("--patches", type=int, default=256, help="calibration patches (41x41)")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--denorm", choices=DENORMS, default="feature",
                        help="how a patch gets its contrast back (feature: the shipped weights'; patch: the paper's)")
    parser.add_argument("--contrast", type=float, default=1.1, help="with --denorm patch: HR per LR patch norm")
    args = parser.parse_args(argv)
    command = "python -m superres.models.scn " + " ".join(argv if argv is not None else sys.argv[1:])
    path, gain = write_dictionary_start(
        args.dictionary, args.output, args.scale, stages=args.stages, lam=args.lam, calibrate_on=args.calibrate_on,
        patches=args.patches, data_dir=args.data_dir, command=command, denorm=args.denorm, contrast=args.contrast,
    )
    print(f"wrote {path}" + (f" (gain {gain:.4g})" if gain is not None else ""), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
