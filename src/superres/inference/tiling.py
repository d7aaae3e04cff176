"""Tiled upscaling with bounded memory, equal to the untiled result.

An image is cut into LR tiles; each is upscaled together with ``context``
extra LR pixels on every side (clipped at the image border) and only the
part of the output that belongs to the tile is kept.  When the context
covers the method's receptive field, every kept output pixel saw exactly the
input it sees in the untiled run, so tiled == untiled: bit for bit for the
interpolation and classical methods; for networks, up to float rounding (the
convolution backend blocks its sums differently for each tile size: about
1e-6, which can move a rare 8-bit pixel by one level).

Two conditions make that exact rather than approximate:

* **Receptive field.**  :func:`receptive_radius` gives, in LR pixels, how far
  an output pixel's value reaches: for a learned method, the network's
  ``border`` (receptive radius in the pixels the network sees; SRCNN
  ``f1//2 + f2//2 + f3//2``, VDSR its depth), divided by the scale for
  networks fed the bicubic-upscaled image, plus 3 LR pixels for the MATLAB
  bicubic (the pre-upsampling and the Cb/Cr upscale: 4 taps of which the
  farthest is 2 pixels away, plus one for the sub-pixel offset).  Other
  methods declare ``MethodInfo.receptive_radius``; ``None`` (global methods
  such as ``ibp``) means the image is processed whole.
* **Grid alignment.**  MATLAB ``imresize`` maps output ``j`` to input
  ``j / s + 0.5 (1 - 1/s)``.  A crop starting at LR pixel ``c`` reproduces
  the global sampling grid only when ``c * s`` is a whole number, so tile
  and context sizes are multiples of ``q``, the denominator of ``s = p / q``
  (1 for integer scales, 2 for x2.5).  Such crops then even share the
  resize's per-phase weights bit for bit.  A scale that is no fraction with
  ``q <= 10000`` is processed untiled.

Memory: ``max_memory`` is a budget in bytes for one image's data (the input,
the output and the tiles in flight).  The fixed part (input and output
arrays, and the image writer's copies of the output, OUTPUT_COPIES of them) is subtracted, and
the tile side is the largest whose estimated working set fits in the rest,
capped at :data:`TILE_WORKING_CAP` (bigger tiles are no faster).  The
working set per LR pixel is estimated from the method: the colour pipeline's
float buffers, and for a network ``3 x widest layer x 4 bytes`` per pixel
it processes.  Only one tile is on the device at a time.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable

import numpy as np
import torch
from torch import nn

from superres.errors import InvalidArgumentError
from superres.inference.device import format_bytes
from superres.methods.base import SRMethod, output_size

__all__ = [
    "BICUBIC_CONTEXT",
    "TILE_WORKING_CAP",
    "TilePlan",
    "TileSource",
    "ArraySource",
    "TensorSource",
    "ArraySink",
    "TensorSink",
    "scale_alignment",
    "network_receptive_radius",
    "receptive_radius",
    "working_bytes_per_lr_pixel",
    "plan_tiles",
    "run_tiled",
    "with_uint8_mode",
]

#: LR pixels of context the MATLAB bicubic upscale needs (2 taps away, +1 for the sub-pixel offset)
BICUBIC_CONTEXT = 3
#: largest working set given to one tile (bytes); bigger tiles do not run faster
TILE_WORKING_CAP = 1 << 30
#: smallest kept tile side (LR pixels) worth running; below this the context dominates
MIN_TILE = 16

_GLOBAL_POOLS = (nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d)


# --------------------------------------------------------------------------
# Receptive field and memory estimates


def scale_alignment(scale: float) -> tuple[int, int] | None:
    """``(p, q)`` with ``scale == p / q`` (``q <= 10000``), or None if there is none."""
    frac = Fraction(float(scale)).limit_denominator(10_000)
    if abs(float(frac) - float(scale)) > 1e-12 * max(1.0, float(scale)):
        return None
    return frac.numerator, frac.denominator


def _pair(value: int | tuple[int, ...]) -> tuple[int, ...]:
    return (value,) if isinstance(value, int) else tuple(value)


def network_receptive_radius(model: nn.Module) -> int | None:
    """Receptive radius of ``model`` in the pixels of its input, or None if global.

    A model states it as an ``int`` attribute ``receptive_radius`` or
    ``border`` (SRCNN, VDSR).  Otherwise it is bounded from the module graph:
    the sum of ``dilation * (kernel - 1) / 2`` over all convolutions and
    poolings (exact for a plain chain, an upper bound for branches and for
    layers after a pixel shuffle); a model with adaptive (global) pooling has
    no finite radius. Nor is one bounded for a model that strides, pools with a
    stride or upsamples by a transposed convolution or ``nn.Upsample``: there a
    layer reaches ``stride`` times farther, and a tile's start changes the
    sampling phase, so such a model (unless it states its radius) runs whole.
    """
    for attr in ("receptive_radius", "border"):
        value = getattr(model, attr, None)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    radius = 0
    for module in model.modules():
        if isinstance(module, _GLOBAL_POOLS + (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.Upsample)):
            return None
        stride = getattr(module, "stride", 1)
        if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)) and max(_pair(stride)) > 1:
            return None
        if isinstance(module, (nn.Conv1d, nn.Conv2d)):
            k = max(module.kernel_size)
            d = max(module.dilation)
            radius += d * math.ceil((k - 1) / 2)
        elif isinstance(module, (nn.MaxPool2d, nn.AvgPool2d)):
            k = module.kernel_size if isinstance(module.kernel_size, int) else max(module.kernel_size)
            radius += math.ceil((k - 1) / 2)
    return radius


def _learned_parts(method: SRMethod, scale: float):
    """(network, how it is fed, the factor it applies itself) of a learned method, else None."""
    from superres.methods.learned import LearnedMethod, network_scale

    if not isinstance(method, LearnedMethod):
        return None
    model, card = method.model_for_scale(scale)
    return model, card.get("input", "upsampled"), network_scale(model, card, scale)


def receptive_radius(method: SRMethod, scale: float) -> int | None:
    """LR pixels of context a tile needs on each side for tiled == untiled; None: untileable."""
    hook = getattr(method, "receptive_radius_for_scale", None)
    if callable(hook):
        return hook(scale)
    parts = _learned_parts(method, scale)
    if parts is None:
        return method.info.receptive_radius
    model, feed, _ = parts
    border = network_receptive_radius(model)
    if border is None:
        return None
    if feed == "upsampled":  # border counts upscaled pixels; bicubic pre-upsampling adds its own
        return math.ceil(border / scale) + BICUBIC_CONTEXT
    # LR-space network (+ a bicubic resize after it for a fractional scale) and bicubic Cb/Cr
    return border + BICUBIC_CONTEXT


def _widest_layer(model: nn.Module) -> int:
    widths = [1]
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
            widths += [module.in_channels, module.out_channels]
        elif isinstance(module, nn.Linear):
            widths += [module.in_features, module.out_features]
    return max(widths)


def working_bytes_per_lr_pixel(method: SRMethod, scale: float, channels: int) -> float:
    """Estimated peak bytes of work per LR pixel of a tile (its context included).

    The colour pipeline (RGB -> YCbCr, bicubic, back, quantisation in
    float64) holds about 48 bytes per output pixel and channel; a network
    adds ``3 x widest layer x 4`` bytes per pixel it processes (input and
    output of a convolution and one padded copy), or what it states itself
    as ``working_bytes_per_input_pixel(scale)`` (SCN holds more maps at once).
    A method may state its whole figure with ``working_bytes_per_lr_pixel(scale, channels)``.
    """
    hook = getattr(method, "working_bytes_per_lr_pixel", None)
    if callable(hook):
        return float(hook(scale, channels))
    area = scale * scale
    base = 48.0 * max(channels, 1) * area + 16.0 * channels
    if method.info.receptive_radius is None:  # global methods work in float64, several buffers
        base *= 2
    parts = _learned_parts(method, scale)
    if parts is not None:
        model, feed, net_scale = parts
        stated = getattr(model, "working_bytes_per_input_pixel", None)
        if callable(stated):
            base += float(stated(scale)) * (area if feed == "upsampled" else 1)
        else:
            net_pixels = area if feed == "upsampled" else net_scale**2
            base += 3 * _widest_layer(model) * 4.0 * net_pixels
    return base


# --------------------------------------------------------------------------
# Plans


@dataclass(frozen=True)
class TilePlan:
    """Where the tiles of an ``height x width`` LR image lie (all in LR pixels).

    ``rows``/``cols`` hold the kept ranges ``[start, stop)``; each tile is
    processed with ``context`` extra pixels on every side, clipped at the
    border.  ``p / q`` is the scale; every start is a multiple of ``q``.
    """

    height: int
    width: int
    scale: float
    tile: int
    context: int
    p: int
    q: int
    rows: tuple[tuple[int, int], ...]
    cols: tuple[tuple[int, int], ...]
    working_bytes: float

    @property
    def count(self) -> int:
        """Number of tiles (rows x columns)."""
        return len(self.rows) * len(self.cols)

    @property
    def out_size(self) -> tuple[int, int]:
        """``(height, width)`` of the output image."""
        return output_size(self.height, self.width, self.scale)

    def out_start(self, lr_start: int) -> int:
        """Output index of LR index ``lr_start`` (a multiple of ``q``)."""
        return lr_start // self.q * self.p


def _ranges(length: int, tile: int) -> tuple[tuple[int, int], ...]:
    return tuple((a, min(a + tile, length)) for a in range(0, length, tile))


def _largest_tile(budget: float, bytes_per_pixel: float, context: int, q: int) -> int:
    """The largest kept tile side (a multiple of ``q``) whose crop fits ``budget``."""
    side = math.isqrt(int(max(budget, 0) // max(bytes_per_pixel, 1.0)))
    return (side - 2 * context) // q * q


def plan_tiles(
    height: int,
    width: int,
    scale: float,
    *,
    radius: int | None,
    bytes_per_pixel: float,
    budget: float,
    tile: int | None = None,
    what: str = "this method",
    working_cap: float | None = None,
) -> TilePlan:
    """Choose the tiles for an LR image of ``height x width``.

    ``radius`` is :func:`receptive_radius` (None: one tile, the whole image);
    ``budget`` the bytes the tiles may use; ``tile`` forces a kept tile side
    (rounded up to the alignment; for tests and tuning).  ``working_cap``
    (e.g. :data:`TILE_WORKING_CAP`) only sizes the tiles: a method that needs
    more (a global method, or a large scale's smallest tile) may still use
    the whole ``budget``.  Raises :class:`InvalidArgumentError` when not even
    the smallest tile fits the budget.
    """
    align = scale_alignment(scale)
    whole = dict(tile=max(height, width), context=0, rows=((0, height),), cols=((0, width),))
    if radius is None or align is None:
        p, q = align if align is not None else (0, 1)
        need = bytes_per_pixel * height * width
        if need > budget:
            reason = "is a global method" if radius is None else f"cannot tile scale {scale:g}"
            raise InvalidArgumentError(
                f"{what} {reason} and needs about {format_bytes(need)} for a {width}x{height} image, "
                f"more than the {format_bytes(budget)} left in the memory budget (raise --max-memory, or max_memory in Python)"
            )
        return TilePlan(height, width, scale, p=p, q=q, working_bytes=need, **whole)
    p, q = align
    context = -(-radius // q) * q
    if tile is None:
        smallest = max(MIN_TILE, q)
        tile = _largest_tile(min(budget, working_cap or budget), bytes_per_pixel, context, q)
        if tile < smallest and tile < max(height, width):  # the cap is a preference, the budget the limit
            tile = max(tile, _largest_tile(budget, bytes_per_pixel, context, q))
        if tile < smallest and tile < max(height, width) and bytes_per_pixel * height * width <= budget:
            # A scale of large denominator (4/3 typed as 1.3333 is 13333/10000) aligns
            # tiles to q pixels: more than a small image holds, which fits whole anyway.
            tile = max(height, width)
        if tile < smallest and tile < max(height, width):
            need = bytes_per_pixel * (smallest + 2 * context) ** 2
            raise InvalidArgumentError(
                f"the memory budget is too small for {what} at x{scale:g}: the smallest tile needs about "
                f"{format_bytes(need)}, {format_bytes(budget)} are left (raise --max-memory, or max_memory in Python)"
            )
    else:
        if isinstance(tile, bool) or not isinstance(tile, int) or tile < 1:
            raise InvalidArgumentError(f"tile size must be a positive integer, not {tile!r}")
        tile = -(-tile // q) * q
    if tile >= height and tile >= width:
        need = bytes_per_pixel * height * width
        return TilePlan(height, width, scale, p=p, q=q, working_bytes=need, **whole)
    crop = min(tile + 2 * context, height) * min(tile + 2 * context, width)
    return TilePlan(
        height,
        width,
        scale,
        tile=tile,
        context=context,
        p=p,
        q=q,
        rows=_ranges(height, tile),
        cols=_ranges(width, tile),
        working_bytes=bytes_per_pixel * crop,
    )


# --------------------------------------------------------------------------
# Sources and sinks: the full image stays where it is; tiles are cut on demand


class TileSource:
    """An LR image from which float ``(1, C, h, w)`` crops in [0, 1] are cut."""

    height: int
    width: int
    channels: int

    def crop(self, y0: int, y1: int, x0: int, x1: int) -> torch.Tensor:
        """Float ``(1, C, y1 - y0, x1 - x0)`` crop in [0, 1] of rows ``y0:y1`` and columns ``x0:x1``."""
        raise NotImplementedError


class ArraySource(TileSource):
    """``(H, W, C)`` uint8/uint16 pixels; crops are converted as :func:`~superres.io.image_to_tensor`."""

    def __init__(self, pixels: np.ndarray) -> None:
        from superres.io import image_to_tensor

        self._to_tensor = image_to_tensor
        self.pixels = pixels
        self.height, self.width, self.channels = pixels.shape

    def crop(self, y0: int, y1: int, x0: int, x1: int) -> torch.Tensor:
        """Rows ``y0:y1`` and columns ``x0:x1`` of the pixels, as a float ``(1, C, h, w)`` tensor in [0, 1]."""
        return self._to_tensor(self.pixels[y0:y1, x0:x1])


class TensorSource(TileSource):
    """A ``(1, C, H, W)`` float tensor."""

    def __init__(self, tensor: torch.Tensor) -> None:
        self.tensor = tensor
        _, self.channels, self.height, self.width = tensor.shape

    def crop(self, y0: int, y1: int, x0: int, x1: int) -> torch.Tensor:
        """Rows ``y0:y1`` and columns ``x0:x1`` of the tensor (a view)."""
        return self.tensor[:, :, y0:y1, x0:x1]


class ArraySink:
    """Writes output tiles into an ``(H, W, C)`` uint8/uint16 array, quantised as :func:`~superres.io.tensor_to_image`."""

    def __init__(self, out: np.ndarray) -> None:
        from superres.io import tensor_to_image

        self._to_image = tensor_to_image
        self.out = out
        self.bit_depth = 16 if out.dtype == np.uint16 else 8

    def __call__(self, y0: int, x0: int, tile: torch.Tensor) -> None:
        h, w = tile.shape[-2:]
        self.out[y0 : y0 + h, x0 : x0 + w] = self._to_image(tile, bit_depth=self.bit_depth)


class TensorSink:
    """Writes output tiles into a ``(1, C, H, W)`` float tensor."""

    def __init__(self, out: torch.Tensor) -> None:
        self.out = out

    def __call__(self, y0: int, x0: int, tile: torch.Tensor) -> None:
        h, w = tile.shape[-2:]
        self.out[:, :, y0 : y0 + h, x0 : x0 + w] = tile.to(self.out.device, self.out.dtype)


# --------------------------------------------------------------------------
# Running


def with_uint8_mode(method: SRMethod, uint8_valued: bool) -> SRMethod:
    """Fix a per-input decision of interpolation methods for the whole image.

    The interpolation methods round between their two passes when their
    input is 8-bit valued (MATLAB's uint8 resize).  A tile of a 16-bit or
    float image can look 8-bit by accident (a flat region), so the decision
    is taken once, on the whole image: when it is not 8-bit valued, a copy
    with ``as_uint8=False`` is returned.  Likewise a learned method that
    rounds its Y input to 8 bits as its authors' test code did (SRCNN's
    ``round_y_input``) keeps the full precision of a 16-bit or float image.
    """
    if not uint8_valued:
        for flag in ("as_uint8", "round_y_input"):
            if getattr(method, flag, False):
                method = copy.copy(method)  # shallow: a learned method's loaded networks are shared
                setattr(method, flag, False)
    return method


def run_tiled(
    process: Callable[[torch.Tensor], torch.Tensor],
    source: TileSource,
    plan: TilePlan,
    sink: Callable[[int, int, torch.Tensor], None],
    *,
    device: torch.device | None = None,
    on_tile: Callable[[int, int], None] | None = None,
) -> None:
    """Upscale ``source`` tile by tile with ``process`` and hand each kept output tile to ``sink``.

    ``process`` maps a ``(1, C, h, w)`` float crop in [0, 1] (on ``device``)
    to its ``(1, C', ceil(h s), ceil(w s))`` upscale.  ``sink(y0, x0, tile)``
    receives output tiles with their output offsets.  ``on_tile(done, total)``
    is called after each tile.
    """
    ctx = plan.context
    total = plan.count
    done = 0
    with torch.inference_mode():
        for a, b in plan.rows:
            for c, d in plan.cols:
                y0, y1 = max(0, a - ctx), min(plan.height, b + ctx)
                x0, x1 = max(0, c - ctx), min(plan.width, d + ctx)
                crop = source.crop(y0, y1, x0, x1)
                if device is not None:
                    crop = crop.to(device)
                out = process(crop)
                oy, ox = plan.out_start(a), plan.out_start(c)
                oy1 = plan.out_size[0] if b == plan.height else plan.out_start(b)
                ox1 = plan.out_size[1] if d == plan.width else plan.out_start(d)
                ry, rx = oy - plan.out_start(y0), ox - plan.out_start(x0)
                kept = out[:, :, ry : ry + (oy1 - oy), rx : rx + (ox1 - ox)]
                if tuple(kept.shape[-2:]) != (oy1 - oy, ox1 - ox):
                    raise AssertionError(f"tile output {tuple(out.shape)} does not cover {oy}:{oy1}, {ox}:{ox1}")
                sink(oy, ox, kept)
                del crop, out, kept
                done += 1
                if on_tile is not None:
                    on_tile(done, total)
