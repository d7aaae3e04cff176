"""MATLAB-compatible ``imresize`` on batched torch tensors.

Every published SR table builds its low-resolution inputs with MATLAB's
``imresize(hr, 1/s, 'bicubic')``.  Pillow and OpenCV use other kernels, no
antialiasing or other rounding, so their LR images give different numbers.
This module reproduces MATLAB's algorithm step by step:

* per output sample ``j`` (1-based) the input position is
  ``u = j / scale + 0.5 * (1 - 1 / scale)``;
* when shrinking with antialiasing the kernel is stretched by ``1 / scale``
  (``h(x) = scale * k(scale * x)``), so it acts as a low-pass filter;
* every output sample takes ``ceil(kernel_width) + 2`` taps starting at
  ``floor(u - kernel_width / 2)``, with weights normalised to sum 1;
* out-of-range taps are mapped back into the image ("border" option);
* the two dimensions are resized one after the other, the one shrinking most
  first (height first on a tie); a uint8 image is rounded (half away from zero)
  and clipped to 0..255 between the two passes, exactly as MATLAB stores its
  intermediate result in the input class.

Border handling: the MATLAB that made every classic benchmark LR set (and
the LR files in ``shared/data/benchmark``) *replicates* the edge pixel; current
MATLAB *mirrors* (half-sample symmetric).  ``border="replicate"`` is the
default because it reproduces the published inputs; ``border="symmetric"``
gives today's MATLAB.

The filtering itself exploits the periodic sampling grid of every integer
and simple rational factor: each (phase, tap) pair is one multiply and one add
over a strided slice of the input; irregular factors fall back to a gather per
tap. The multiply and the add are separate, never fused: a fused multiply-add
rounds once, and whether torch fuses depends on the CPU's vector instructions,
so the same image would give other pixels on another machine. Every window of
a phase uses that phase's weights (MATLAB computes them sample by sample, which
differs in the last bits at factors such as 1.5): a tile's grid is then the
image's, so tiles give the whole image's pixels exactly. At non-integer
factors this can round an exact .5 tie of uint8 output otherwise than MATLAB,
and nothing else (``tests/ops/test_resize.py`` checks both); the benchmark
factors x2..x4 and 1/2..1/4 are exact (all 357 MATLAB LR files).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable, Literal, Sequence

import numpy as np
import torch

from superres.errors import InvalidArgumentError

Border = Literal["replicate", "symmetric"]
KernelName = Literal["bicubic", "cubic", "box", "nearest", "triangle", "bilinear", "lanczos2", "lanczos3"]

__all__ = [
    "imresize_matlab",
    "resize_plan",
    "ResizePlan1D",
    "output_size_for_scale",
    "KERNELS",
    "MAX_SCALE",
    "checked_scale",
    "uint8_compute_dtype",
]


#: the largest factor any command or method accepts (x64 of a 100x100 image is 6400x6400)
MAX_SCALE = 64


def checked_scale(scale: object) -> float:
    """``scale`` as a float above 1 and at most :data:`MAX_SCALE`, else :class:`InvalidArgumentError`.

    1 is refused: upscaling by 1 would be a copy at best, and a network trained for
    x2..x4 run at x1 changes pixels for no reason.
    """
    if isinstance(scale, bool):  # float(True) is 1.0: a flag passed where the factor goes
        raise InvalidArgumentError(f"scale must be a number, got {scale!r}")
    try:
        value = float(scale)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"scale must be a number, got {scale!r}") from None
    if not (1 < value <= MAX_SCALE):
        raise InvalidArgumentError(f"scale must be above 1 and at most {MAX_SCALE}, got {scale!r}")
    return value


def _cubic(x: np.ndarray) -> np.ndarray:
    # Keys' cubic with a = -0.5, written as MATLAB's imresize writes it.
    ax = np.abs(x)
    ax2 = ax * ax
    ax3 = ax2 * ax
    return (1.5 * ax3 - 2.5 * ax2 + 1) * (ax <= 1) + (-0.5 * ax3 + 2.5 * ax2 - 4 * ax + 2) * ((ax > 1) & (ax <= 2))


def _box(x: np.ndarray) -> np.ndarray:
    return ((x >= -0.5) & (x < 0.5)).astype(np.float64)


def _triangle(x: np.ndarray) -> np.ndarray:
    return (x + 1) * ((x >= -1) & (x < 0)) + (1 - x) * ((x >= 0) & (x <= 1))


def _lanczos(a: int) -> Callable[[np.ndarray], np.ndarray]:
    def kernel(x: np.ndarray) -> np.ndarray:
        # MATLAB adds eps to numerator and denominator so that x = 0 gives 1.
        eps = np.finfo(np.float64).eps
        y = (np.sin(np.pi * x) * np.sin(np.pi * x / a) + eps) / ((np.pi**2 * x * x / a) + eps)
        return y * (np.abs(x) < a)

    return kernel


@dataclass(frozen=True)
class _Kernel:
    function: Callable[[np.ndarray], np.ndarray]
    width: float
    antialias_default: bool


KERNELS: dict[str, _Kernel] = {
    "bicubic": _Kernel(_cubic, 4.0, True),
    "box": _Kernel(_box, 1.0, True),
    # MATLAB's 'nearest' is the box kernel with antialiasing switched off.
    "nearest": _Kernel(_box, 1.0, False),
    "triangle": _Kernel(_triangle, 2.0, True),
    "lanczos2": _Kernel(_lanczos(2), 4.0, True),
    "lanczos3": _Kernel(_lanczos(3), 6.0, True),
}
_ALIASES = {"cubic": "bicubic", "bilinear": "triangle", "linear": "triangle"}


def _kernel(name: str) -> _Kernel:
    key = _ALIASES.get(name, name)
    if key not in KERNELS:
        choices = ", ".join(sorted(set(KERNELS) | set(_ALIASES)))
        raise InvalidArgumentError(f"unknown resize kernel {name!r} (choose from {choices})")
    return KERNELS[key]


def output_size_for_scale(size: int, scale: float) -> int:
    """MATLAB's output length for a scale factor: ``ceil(size * scale)``.

    The product is rounded to 9 decimal places first, so that floating-point
    noise above a whole number does not add a sample: ``50 * 1.1`` is
    55.00000000000001 in double, and x1.1 of 50 pixels gives 55 here, where
    MATLAB's plain ``ceil`` gives 56. The benchmarks' factors (1/2, 1/3, 1/4 and
    their inverses) have exact products, so their sizes are MATLAB's.
    """
    if not (scale > 0 and math.isfinite(scale)):
        raise InvalidArgumentError(f"scale must be a positive finite number, got {scale!r}")
    return max(1, math.ceil(round(size * scale, 9)))


@dataclass(frozen=True)
class ResizePlan1D:
    """Everything a 1-D MATLAB resize needs (``contributions`` in imresize.m).

    ``weights`` is ``(out_length, taps)``; output sample ``j`` reads the
    contiguous window ``starts[j] + arange(taps)`` of the *unbounded* input
    axis, which :meth:`map_indices` folds back into ``[0, in_length)``.
    """

    weights: np.ndarray
    starts: np.ndarray
    in_length: int
    scale: float
    border: Border

    @property
    def out_length(self) -> int:
        """Number of output samples."""
        return self.weights.shape[0]

    @property
    def taps(self) -> int:
        """Number of input samples each output sample reads."""
        return self.weights.shape[1]

    def map_indices(self, unbounded: np.ndarray) -> np.ndarray:
        """Fold indices of the unbounded input axis into ``[0, in_length)`` by the ``border`` rule."""
        n = self.in_length
        if self.border == "replicate":
            return np.clip(unbounded, 0, n - 1)
        period = np.concatenate([np.arange(n), np.arange(n - 1, -1, -1)])
        return period[np.mod(unbounded, 2 * n)]

    @property
    def indices(self) -> np.ndarray:
        """0-based input indices ``(out_length, taps)`` after border mapping."""
        return self.map_indices(self.starts[:, None] + np.arange(self.taps)[None, :])


def resize_taps(scale: float, kernel: str = "bicubic", *, antialias: bool | None = None) -> int:
    """Input samples each output sample reads at ``scale``: ``ceil(kernel width) + 2``, the
    width stretched by ``1 / scale`` when an antialiased kernel shrinks (so a tiny factor
    reads very many: a plan of ``out_length x taps`` weights)."""
    spec = _kernel(kernel)
    antialias = spec.antialias_default if antialias is None else antialias
    width = spec.width / scale if scale < 1 and antialias else spec.width
    return int(math.ceil(width)) + 2


def resize_plan(
    in_length: int,
    out_length: int,
    scale: float,
    kernel: str = "bicubic",
    *,
    antialias: bool | None = None,
    border: Border = "replicate",
) -> ResizePlan1D:
    """Build the 1-D resize of ``in_length`` samples to ``out_length`` at ``scale``."""
    if border not in ("replicate", "symmetric"):
        raise InvalidArgumentError(f"unknown border mode {border!r} (choose 'replicate' or 'symmetric')")
    spec = _kernel(kernel)
    antialias = spec.antialias_default if antialias is None else antialias
    if scale < 1 and antialias:
        width = spec.width / scale

        def h(x: np.ndarray) -> np.ndarray:
            return scale * spec.function(scale * x)

    else:
        width = spec.width
        h = spec.function
    x = np.arange(1, out_length + 1, dtype=np.float64)
    u = x / scale + 0.5 * (1 - 1 / scale)
    left = np.floor(u - width / 2)
    taps = resize_taps(scale, kernel, antialias=antialias)
    indices = left[:, None] + np.arange(taps, dtype=np.float64)[None, :]
    weights = h(u[:, None] - indices)
    weights = weights / weights.sum(axis=1, keepdims=True)
    # MATLAB also drops taps that are zero for every sample; a zero weight adds nothing,
    # so keeping them changes no value and keeps every window contiguous.
    return ResizePlan1D(weights, left.astype(np.int64) - 1, in_length, scale, border)


def _conv_layout(plan: ResizePlan1D) -> tuple[int, int, int] | None:
    """(stride, period, base) if the plan is a strided convolution with ``period`` phases."""
    ratio = Fraction(1 / plan.scale).limit_denominator(64)
    if abs(float(ratio) - 1 / plan.scale) > 1e-12:
        return None
    stride, period = ratio.numerator, min(ratio.denominator, plan.out_length)
    j = np.arange(plan.out_length)
    phase = j % period
    if not np.array_equal(plan.starts[phase] + (j // period) * stride, plan.starts):
        return None
    # equal to 1e-13 (at factors such as 1.5 the windows' weights differ in the last bits):
    # the first window's then serve every window
    if not np.allclose(plan.weights, plan.weights[phase], rtol=0, atol=1e-13):
        return None
    return stride, period, int(plan.starts[:period].min())


def _resize_dim(x: torch.Tensor, plan: ResizePlan1D, dim: int) -> torch.Tensor:
    """Apply ``plan`` along dimension ``dim`` (-1 or -2) of a float tensor."""
    layout = _conv_layout(plan)
    if layout is not None and dim == -1 and layout[0] > 1:
        # Shrinking along rows reads every stride-th sample of many taps: slices of whole
        # rows (dim -2) are contiguous and measured 3x faster than strided column slices,
        # which pays for the two transposes.
        return _resize_dim(x.transpose(-1, -2).contiguous(), plan, -2).transpose(-1, -2).contiguous()
    if layout is not None:
        # Periodic grid: output phase r of window k reads input base + offset_r + k * stride + t,
        # so each (phase, tap) pair is one multiply-add over a strided slice of the padded
        # input: taps x period vector operations, no gather and no im2col copy.
        stride, period, base = layout
        offsets = plan.starts[:period] - base
        positions = -(-plan.out_length // period)
        span = (positions - 1) * stride + 1
        source = plan.map_indices(base + np.arange(span + int(offsets.max()) + plan.taps - 1))
        padded = x.index_select(dim, torch.as_tensor(source, device=x.device))
        phases = []
        for r in range(period):
            acc = None
            for t in range(plan.taps):
                w = float(plan.weights[r, t])
                if w == 0.0:
                    continue
                piece = padded.narrow(dim, int(offsets[r]) + t, span)
                piece = piece[..., ::stride] if dim == -1 else piece[..., ::stride, :]
                acc = piece * w if acc is None else acc.add_(piece * w)  # not add_(alpha=w): fused
            phases.append(acc)
        # interleave the phases: (..., positions, period) -> (..., positions * period)
        out = torch.stack(phases, dim=dim)
        out = out.flatten(-2, -1) if dim == -1 else out.flatten(-3, -2)
        return out.narrow(dim, 0, plan.out_length)
    # Irregular grid: accumulate tap by tap, one output-sized buffer at a time.
    idx = torch.as_tensor(plan.indices, device=x.device)
    shape = [1] * x.dim()
    shape[dim] = plan.out_length
    out = None
    for t in range(plan.taps):
        w = torch.as_tensor(plan.weights[:, t], dtype=x.dtype, device=x.device).view(shape)
        term = x.index_select(dim, idx[:, t]) * w
        out = term if out is None else out.add_(term)
    return out


#: factors at which float32 arithmetic gives MATLAB's uint8 results (double arithmetic) for the
#: kernels below: the benchmarks' x2..x4 and 1/2..1/4, checked against the 357 MATLAB LR files
#: and random images; x6, 1/6 and such already differ
_FLOAT32_EXACT_FACTORS = (2.0, 3.0, 4.0, 1 / 2, 1 / 3, 1 / 4)
_FLOAT32_EXACT_KERNELS = ("bicubic", "triangle", "box", "nearest")


def uint8_compute_dtype(kernel: str, scale_h: float, scale_w: float) -> torch.dtype:
    """The arithmetic :func:`imresize_matlab` uses for a uint8 image by default: float32 where it
    is known to round as MATLAB's double does (cubic, linear and box kernels at x2..x4 and
    1/2..1/4, twice as fast), else float64 (other factors such as 2.5 or 6, and the Lanczos
    kernels' irrational weights, put float32 sums on the wrong side of .5 ties)."""
    if _ALIASES.get(kernel, kernel) not in _FLOAT32_EXACT_KERNELS:
        return torch.float64
    for factor in (scale_h, scale_w):
        if factor != 1 and not any(abs(factor - exact) < 1e-9 for exact in _FLOAT32_EXACT_FACTORS):
            return torch.float64
    return torch.float32


def _round_to_uint8_range(x: torch.Tensor) -> torch.Tensor:
    """MATLAB's uint8 store: round half away from zero, then saturate to 0..255 (in place).

    Saturating first is safe (every negative value ends at 0, every value above 255 at 255),
    and then half away from zero is half up. Not ``floor(x + 0.5)``: the sum rounds, so
    0.49999997 (float32) would become 1; the fractional part ``x - floor(x)`` is exact.
    """
    x.clamp_(0, 255)
    rounds_up = (x - torch.floor(x)) >= 0.5
    return x.floor_().add_(rounds_up)


def _as_pair(value, what: str) -> tuple:
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise InvalidArgumentError(f"{what} needs one value or two (height, width), got {value!r}")
        return tuple(value)
    return (value, value)


def imresize_matlab(
    image: torch.Tensor,
    scale: float | Sequence[float] | None = None,
    *,
    size: Sequence[int] | None = None,
    kernel: str = "bicubic",
    antialias: bool | None = None,
    border: Border = "replicate",
    round_between_passes: bool | None = None,
    compute_dtype: torch.dtype | None = None,
) -> torch.Tensor:
    """Resize like MATLAB ``imresize`` (see the module docstring for the algorithm).

    Args:
        image: ``(..., H, W)`` tensor, e.g. ``(B, C, H, W)``.  ``uint8`` input is
            treated as MATLAB treats uint8 (output uint8, rounded half away from
            zero and saturated); float input stays float with no rounding or
            clipping (values may overshoot ``[0, 1]`` like MATLAB's double).
        scale: one factor or ``(scale_h, scale_w)``; the output size is
            ``ceil(scale * input size)``.  Give either ``scale`` or ``size``.
        size: ``(out_h, out_w)``; the factor is then ``out / in`` per dimension.
        kernel: ``bicubic`` (Keys, a = -0.5), ``box``/``nearest``,
            ``triangle``/``bilinear``, ``lanczos2`` or ``lanczos3``.
        antialias: stretch the kernel when shrinking.  Default: MATLAB's
            (on for every kernel except ``nearest``).
        border: ``"replicate"`` (MATLAB of the classic benchmarks, default) or
            ``"symmetric"`` (current MATLAB's mirroring).
        round_between_passes: round and clip to 0..255 after the first pass.
            Default: True for uint8 input (MATLAB's behaviour), else False.
        compute_dtype: float dtype of the arithmetic.  Default for uint8 input:
            :func:`uint8_compute_dtype` (float32 for the cubic, linear and box kernels
            at x2..x4 and 1/2..1/4, where it keeps every bit MATLAB's double arithmetic
            keeps for rounding: the 357 MATLAB LR files are reproduced exactly, at
            twice the speed; float64 otherwise, where float32 sums land on the wrong
            side of a .5 tie for about 1 pixel in 2600, so those resizes take about
            2.4x as long).  Otherwise the input dtype.

    Returns:
        The resized tensor, same leading dimensions and dtype as ``image``.

    Example:
        >>> hr = torch.randint(0, 256, (1, 3, 12, 12), dtype=torch.uint8)
        >>> imresize_matlab(hr, 1 / 3).shape
        torch.Size([1, 3, 4, 4])
    """
    if not isinstance(image, torch.Tensor):
        raise InvalidArgumentError(f"imresize_matlab needs a torch tensor, got {type(image).__name__}")
    if image.dim() < 2 or image.shape[-2] == 0 or image.shape[-1] == 0:
        raise InvalidArgumentError(f"imresize_matlab needs a non-empty tensor (..., H, W), got shape {tuple(image.shape)}")
    if image.dtype != torch.uint8 and not image.is_floating_point():
        # MATLAB's uint16/int16 arithmetic (own ranges, own saturation) is not reproduced
        raise InvalidArgumentError(f"imresize_matlab takes uint8 or float tensors, got {image.dtype}")
    in_h, in_w = image.shape[-2:]
    if (scale is None) == (size is None):
        raise InvalidArgumentError("give exactly one of scale and size")
    if size is not None:
        out_h, out_w = (int(v) for v in _as_pair(size, "size"))
        if out_h < 1 or out_w < 1:
            raise InvalidArgumentError(f"output size must be positive, got {size!r}")
        scale_h, scale_w = out_h / in_h, out_w / in_w
    else:
        scale_h, scale_w = (float(v) for v in _as_pair(scale, "scale"))
        out_h, out_w = output_size_for_scale(in_h, scale_h), output_size_for_scale(in_w, scale_w)
    is_uint8 = image.dtype == torch.uint8
    if round_between_passes is None:
        round_between_passes = is_uint8
    if compute_dtype is None:
        compute_dtype = uint8_compute_dtype(kernel, scale_h, scale_w) if is_uint8 else image.dtype
    x = image.to(compute_dtype)
    # MATLAB resizes the dimension with the smallest factor first, rows (height) on a tie.
    passes = [("h", scale_h, out_h), ("w", scale_w, out_w)]
    if scale_w < scale_h:
        passes.reverse()
    for i, (dim, factor, out_len) in enumerate(passes):
        in_len = x.shape[-2] if dim == "h" else x.shape[-1]
        if out_len == in_len and factor == 1:
            continue
        plan = resize_plan(in_len, out_len, factor, kernel, antialias=antialias, border=border)
        x = _resize_dim(x, plan, -2 if dim == "h" else -1)
        if i == 0 and round_between_passes:
            x = _round_to_uint8_range(x)
    if is_uint8:
        return _round_to_uint8_range(x).to(torch.uint8)
    x = x.to(image.dtype)
    return x.clone() if x is image else x  # never an alias of the input, even when no pass runs
