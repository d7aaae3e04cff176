"""The one interface every SR method implements, classic or learned.

Calling convention (the same for every method, so that evaluate, upscale,
benchmark and the web page treat them alike):

* input ``lr``: ``(B, C, H, W)`` float tensor in ``[0, 1]``; ``C`` is 3 (RGB)
  or 1 (grayscale, or the Y channel of BT.601 YCbCr on the ``[0, 1]`` scale);
* output: ``(B, C, ceil(H * scale), ceil(W * scale))`` float in ``[0, 1]``
  (methods may overshoot slightly; callers clip when they quantise).

Methods that, like the papers, work on luminance only derive from
:class:`YChannelMethod`: it converts RGB to YCbCr, gives the Y channel to
:meth:`YChannelMethod.upscale_y` and upscales Cb and Cr with MATLAB bicubic.
A one-channel input goes straight to ``upscale_y``.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Callable, Iterable, Literal

import torch

from superres.errors import InvalidArgumentError
from superres.ops.color import rgb_to_ycbcr_bt601, round_half_away, ycbcr_bt601_to_rgb
from superres.ops.crop import check_image_tensor
from superres.ops.resize import MAX_SCALE, checked_scale, imresize_matlab, output_size_for_scale

__all__ = ["MAX_SCALE", "MethodInfo", "SRMethod", "YChannelMethod", "check_option_names", "checked_scale", "each_image",
           "output_size"]

Family = Literal[
    "interpolation", "reconstruction", "example-based", "self-similarity", "sparse-coding", "cnn"
]


@dataclass(frozen=True)
class MethodInfo:
    """What a method is, for listings, docs and the evaluation tables."""

    name: str
    family: Family
    summary: str
    paper: str = ""
    year: int | None = None
    channels: Literal["rgb", "y"] = "rgb"
    #: scales the method supports; None means any factor > 1
    scales: tuple[float, ...] | None = None
    trainable: bool = False
    #: LR pixels of context a tile needs on each side for tiled == untiled (None: not tileable).
    #: A learned method's depends on its network and the scale, so its own info leaves it at 0
    #: (the networks load lazily): :func:`superres.inference.receptive_radius` gives it per
    #: scale, and ``superres.list_models`` fills in the widest.
    receptive_radius: int | None = 0
    extra: dict = field(default_factory=dict)


def check_option_names(options: dict, *functions: Callable, what: str, set_by_caller: Iterable[str] = ()) -> None:
    """Refuse a key of ``options`` that none of ``functions`` takes as a keyword (or that the
    caller passes itself, ``set_by_caller``): a method that passes options on finds a
    misspelt one at construction, not at its first image."""
    accepted = {
        name
        for function in functions
        for name, parameter in inspect.signature(function).parameters.items()
        if parameter.kind in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    } - set(set_by_caller)
    unknown = sorted(set(options) - accepted)
    if unknown:
        raise InvalidArgumentError(f"{what} has no option {', '.join(map(repr, unknown))} "
                                   f"(it takes: {', '.join(sorted(accepted))})")


def each_image(batch: torch.Tensor, upscale_one: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
    """``upscale_one`` on each ``(1, C, H, W)`` image of ``batch``, concatenated: for methods
    whose result must not depend on the rest of the batch (a solver's own step sizes, a
    random stream, an 8-bit decision), so that every image gets exactly what it gets alone."""
    return torch.cat([upscale_one(batch[b : b + 1]) for b in range(batch.shape[0])])


def output_size(height: int, width: int, scale: float) -> tuple[int, int]:
    """Output size of an upscale by ``scale``: MATLAB's ``ceil(size * scale)``."""
    return output_size_for_scale(height, scale), output_size_for_scale(width, scale)


class SRMethod(ABC):
    """Base class: subclasses set ``info`` and implement :meth:`_upscale`."""

    info: MethodInfo

    def upscale(self, lr: torch.Tensor, scale: float) -> torch.Tensor:
        """Upscale ``lr`` (``(B, C, H, W)`` float in [0, 1]) by ``scale``.

        Returns ``(B, C, ceil(H * scale), ceil(W * scale))`` float.
        """
        check_image_tensor(lr, "LR image")
        if not lr.is_floating_point():
            raise InvalidArgumentError(f"LR image must be a float tensor in [0, 1], got {lr.dtype}")
        if lr.shape[1] not in (1, 3):
            raise InvalidArgumentError(f"LR image must have 1 or 3 channels, got {lr.shape[1]}")
        self.check_scale(scale)
        scale = checked_scale(scale)  # "2" or a numpy number -> float, for _upscale and the size alike
        out = self._upscale(lr, scale)
        expected = output_size(lr.shape[-2], lr.shape[-1], scale)
        if tuple(out.shape[-2:]) != expected:
            raise AssertionError(f"{self.info.name} returned {tuple(out.shape[-2:])}, expected {expected}")
        return out

    def check_scale(self, scale: float) -> None:
        """Raise :class:`InvalidArgumentError` if the method cannot do ``scale``."""
        value = checked_scale(scale)
        if self.info.scales is not None and value not in self.info.scales:
            supported = ", ".join(f"{s:g}" for s in self.info.scales)
            raise InvalidArgumentError(f"method {self.info.name!r} supports scale {supported}, not {value:.12g}")

    @abstractmethod
    def _upscale(self, lr: torch.Tensor, scale: float) -> torch.Tensor:
        """Do the work; ``lr`` is already validated."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.info.name!r}>"


class YChannelMethod(SRMethod):
    """A method that works on the luminance only, like the SR papers.

    Cb and Cr are upscaled with MATLAB bicubic.  ``round_y_input`` reproduces the
    authors' test code: SRCNN quantises the LR Y to uint8 before use
    (``rgb2ycbcr`` on the uint8 image), VDSR does not (it converts to double first).
    """

    round_y_input: bool = False

    def _upscale(self, lr: torch.Tensor, scale: float) -> torch.Tensor:
        if lr.shape[1] == 1:
            return self.upscale_y(lr, scale)
        ycbcr = rgb_to_ycbcr_bt601(lr)
        y = ycbcr[:, :1]
        if self.round_y_input:
            y = round_half_away(y * 255) / 255
        sr_y = self.upscale_y(y, scale)
        sr_cbcr = imresize_matlab(ycbcr[:, 1:], scale)
        return ycbcr_bt601_to_rgb(torch.cat([sr_y.to(sr_cbcr.dtype), sr_cbcr], dim=1))

    @abstractmethod
    def upscale_y(self, y: torch.Tensor, scale: float) -> torch.Tensor:
        """Upscale a ``(B, 1, H, W)`` Y (or gray) image in [0, 1] by ``scale``."""
