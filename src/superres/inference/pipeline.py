"""Upscale whole images of any size: method set-up, colour handling, tiling.

:func:`upscale_array` is what ``superres upscale`` and :func:`superres.upscale`
run on decoded pixels:

* gray (1 channel) stays gray; a Y-channel method gets it as its Y;
* RGB goes to the method as it is (Y-channel methods convert to YCbCr,
  upscale Y with the network and Cb/Cr with MATLAB bicubic);
* alpha (LA, RGBA) is upscaled separately with MATLAB bicubic and put back;
* 16-bit pixels are processed in float and written back at 16 bits, never
  through 8 bits (the interpolation methods' MATLAB-uint8 rounding applies to
  8-bit input only);
* the work is tiled (:mod:`superres.inference.tiling`) so that memory stays
  within ``max_memory`` and only one tile is on the device at a time.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from superres.errors import InvalidArgumentError
from superres.inference.device import (
    configure_method,
    default_max_memory,
    format_bytes,
    resolve_device,
)
from superres.inference.tiling import (
    BICUBIC_CONTEXT,
    TILE_WORKING_CAP,
    ArraySink,
    ArraySource,
    TensorSink,
    TensorSource,
    TilePlan,
    plan_tiles,
    receptive_radius,
    run_tiled,
    with_uint8_mode,
    working_bytes_per_lr_pixel,
)
from superres.methods.base import SRMethod, output_size

__all__ = ["prepare_method", "plan_for", "upscale_array", "upscale_tensor", "OUTPUT_COPIES"]

#: copies of the output array the image writer may hold while encoding (Pillow's own buffer, PNG filtering)
OUTPUT_COPIES = 2.0


def prepare_method(
    model: str | SRMethod,
    scale: float,
    *,
    device: str | torch.device | None = "auto",
    precision: str = "auto",
) -> SRMethod:
    """The method ``model`` names (``default``: the one for ``scale``), checked for ``scale`` and set up.

    An :class:`SRMethod` object is only checked for ``scale`` and returned as it is:
    it keeps the device and precision it was made with (``device`` and ``precision``
    set up named methods), so the caller's object never changes under it.

    Raises :class:`~superres.errors.UnknownNameError` for an unknown name and
    :class:`~superres.errors.InvalidArgumentError` for a scale the method cannot do.
    """
    if isinstance(model, SRMethod):
        model.check_scale(scale)
        return model
    dev = resolve_device(device)
    from superres.methods.registry import get_method

    if not isinstance(model, str):
        raise InvalidArgumentError(f"model must be a method name or an SRMethod, not {type(model).__name__}")
    method = get_method(model, scale=scale)
    method.check_scale(scale)
    return configure_method(method, device=dev, precision=precision, method_name=model)


def _tile_device(method: SRMethod, device: torch.device | None) -> torch.device:
    """Where the tiles go: a learned method's network device (``device`` overrides it);
    every other method computes on the CPU, whatever ``device`` says (the device policy:
    only networks run on a GPU, and the classical methods' maths is written for the CPU)."""
    own = getattr(method, "device", None)
    if own is None:
        return torch.device("cpu")
    return torch.device(device) if device is not None else own


def _alpha_method(bit_depth8: bool) -> SRMethod:
    from superres.methods.interpolation import InterpolationMethod

    return InterpolationMethod("bicubic", as_uint8=bit_depth8)


def _processor(method: SRMethod, scale: float, colour: int, alpha: SRMethod | None) -> Callable[[torch.Tensor], torch.Tensor]:
    def process(crop: torch.Tensor) -> torch.Tensor:
        out = method.upscale(crop[:, :colour], scale).float()
        if alpha is None:
            return out
        a = alpha.upscale(crop[:, colour:], scale).float()
        return torch.cat([out, a], dim=1)

    return process


def _split_channels(channels: int) -> int:
    if channels not in (1, 2, 3, 4):
        raise InvalidArgumentError(f"images must have 1 to 4 channels (L, LA, RGB, RGBA), got {channels}")
    return channels - 1 if channels in (2, 4) else channels


def plan_for(
    method: SRMethod,
    scale: float,
    height: int,
    width: int,
    channels: int,
    *,
    fixed_bytes: float,
    max_memory: int | None = None,
    tile: int | None = None,
) -> TilePlan:
    """The tile plan for one image, given the bytes already taken by its input and output."""
    budget = default_max_memory() if max_memory is None else int(max_memory)
    left = budget - fixed_bytes
    if left <= 0:
        oh, ow = output_size(height, width, scale)
        raise InvalidArgumentError(
            f"x{scale:g} of a {width}x{height} image gives {ow}x{oh} pixels: its input and output alone "
            f"need about {format_bytes(fixed_bytes)}, more than the memory budget of {format_bytes(budget)} "
            f"(raise --max-memory, or max_memory in Python)"
        )
    radius = receptive_radius(method, scale)
    if radius is not None and channels in (2, 4):
        radius = max(radius, BICUBIC_CONTEXT)
    return plan_tiles(
        height,
        width,
        scale,
        radius=radius,
        bytes_per_pixel=working_bytes_per_lr_pixel(method, scale, channels),
        budget=left,
        working_cap=TILE_WORKING_CAP,
        tile=tile,
        what=repr(method.info.name),
    )


def upscale_array(
    pixels: np.ndarray,
    method: SRMethod,
    scale: float,
    *,
    max_memory: int | None = None,
    tile: int | None = None,
    device: torch.device | None = None,
    on_tile: Callable[[int, int], None] | None = None,
    on_plan: Callable[[TilePlan], None] | None = None,
) -> np.ndarray:
    """Upscale ``(H, W, C)`` uint8/uint16 pixels (C: 1 L, 2 LA, 3 RGB, 4 RGBA) by ``scale``.

    Returns ``(ceil(H s), ceil(W s), C)`` pixels of the same dtype.
    ``method`` comes from :func:`prepare_method`.  ``max_memory`` (bytes,
    default :func:`~superres.inference.device.default_max_memory`) bounds
    input + output + tiles; ``tile`` forces the LR tile side.  ``device``
    (default: the method's) receives one tile at a time, for learned methods only:
    the others always compute on the CPU.
    """
    if not isinstance(pixels, np.ndarray) or pixels.ndim != 3 or pixels.dtype not in (np.uint8, np.uint16):
        raise InvalidArgumentError("pixels must be an (H, W, C) uint8 or uint16 array")
    height, width, channels = pixels.shape
    if height == 0 or width == 0:
        raise InvalidArgumentError(f"pixels must not be empty, got shape {pixels.shape}")
    colour = _split_channels(channels)
    eight = pixels.dtype == np.uint8
    method = with_uint8_mode(method, eight)
    alpha = _alpha_method(eight) if colour != channels else None
    oh, ow = output_size(height, width, scale)
    out_bytes = oh * ow * channels * pixels.itemsize
    fixed = pixels.nbytes + out_bytes * (1 + OUTPUT_COPIES)
    plan = plan_for(method, scale, height, width, channels, fixed_bytes=fixed, max_memory=max_memory, tile=tile)
    if on_plan is not None:
        on_plan(plan)
    out = np.empty((oh, ow, channels), dtype=pixels.dtype)
    dev = _tile_device(method, device)
    kernel = _uint8_kernel(method) if eight else None
    if kernel is not None:  # MATLAB's uint8 resize, straight on the pixels: same result, no float round trip
        run_tiled(_uint8_processor(kernel, scale, colour), _RawSource(pixels), plan, _RawSink(out), device=dev,
                  on_tile=on_tile)
    else:
        run_tiled(_processor(method, scale, colour, alpha), ArraySource(pixels), plan, ArraySink(out), device=dev,
                  on_tile=on_tile)
    return out


def _uint8_kernel(method: SRMethod) -> str | None:
    """The kernel of an interpolation method that resizes 8-bit input as MATLAB uint8, else None."""
    from superres.methods.interpolation import InterpolationMethod

    if type(method) is InterpolationMethod and method.as_uint8:
        return method.kernel
    return None


def _uint8_processor(kernel: str, scale: float, colour: int) -> Callable[[torch.Tensor], torch.Tensor]:
    from superres.ops.resize import imresize_matlab

    def process(crop: torch.Tensor) -> torch.Tensor:
        out = imresize_matlab(crop[:, :colour], scale, kernel=kernel)
        if crop.shape[1] == colour:
            return out
        return torch.cat([out, imresize_matlab(crop[:, colour:], scale, kernel="bicubic")], dim=1)

    return process


class _RawSource(ArraySource):
    """uint8 crops ``(1, C, h, w)`` of an ``(H, W, C)`` uint8 array, unconverted."""

    def crop(self, y0: int, y1: int, x0: int, x1: int) -> torch.Tensor:
        part = self.pixels[y0:y1, x0:x1]
        if not (part.flags.c_contiguous and part.flags.writeable):  # torch wants writable memory
            part = part.copy()
        return torch.from_numpy(part).permute(2, 0, 1)[None]


class _RawSink(ArraySink):
    def __call__(self, y0: int, x0: int, tile: torch.Tensor) -> None:
        h, w = tile.shape[-2:]
        self.out[y0 : y0 + h, x0 : x0 + w] = tile[0].permute(1, 2, 0).cpu().numpy()


def upscale_tensor(
    lr: torch.Tensor,
    method: SRMethod,
    scale: float,
    *,
    max_memory: int | None = None,
    tile: int | None = None,
    device: torch.device | None = None,
    on_tile: Callable[[int, int], None] | None = None,
    from_uint8: bool = False,
) -> torch.Tensor:
    """Upscale ``(B, C, H, W)`` float in [0, 1] (C: 1, 2, 3 or 4; the 2nd/4th is alpha) by ``scale``.

    Returns ``(B, C, ceil(H s), ceil(W s))`` float32 on ``lr``'s device
    (methods may overshoot [0, 1] slightly; nothing is clipped).  Each image
    of the batch is tiled on its own; the result is assembled on the CPU.
    ``from_uint8``: ``lr`` holds 8-bit pixels divided by 255, to be processed as
    the 8-bit image (the interpolation methods then resize as MATLAB resizes
    uint8, rounding between passes, as :func:`upscale_array` does for uint8).
    Otherwise the float values are used as they are, even where every one
    happens to be a multiple of 1/255: the caller says what the data is.
    """
    if not isinstance(lr, torch.Tensor) or lr.dim() != 4 or not lr.is_floating_point():
        raise InvalidArgumentError("lr must be a (B, C, H, W) float tensor in [0, 1]")
    batch, channels, height, width = lr.shape
    if height == 0 or width == 0 or batch == 0:
        raise InvalidArgumentError(f"lr must not be empty, got shape {tuple(lr.shape)}")
    colour = _split_channels(channels)
    oh, ow = output_size(height, width, scale)
    results = []
    dev = _tile_device(method, device)
    for b in range(batch):
        item = lr[b : b + 1].float()
        m = with_uint8_mode(method, from_uint8)
        alpha = _alpha_method(from_uint8) if colour != channels else None
        fixed = item.numel() * 4 + oh * ow * channels * 4
        plan = plan_for(m, scale, height, width, channels, fixed_bytes=fixed, max_memory=max_memory, tile=tile)
        out = torch.empty((1, channels, oh, ow), dtype=torch.float32)
        run_tiled(_processor(m, scale, colour, alpha), TensorSource(item), plan, TensorSink(out), device=dev, on_tile=on_tile)
        results.append(out)
    return torch.cat(results).to(lr.device)
