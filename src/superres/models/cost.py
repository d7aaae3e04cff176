"""Counting a network's cost from its module graph, not by hand.

:func:`count_macs` runs one forward pass with hooks on every
:class:`~torch.nn.Conv2d`, :class:`~torch.nn.ConvTranspose2d` and
:class:`~torch.nn.Linear` and adds up the multiply-adds each one did on the
shapes it actually saw (so padding, strides, groups, branches that are
skipped and layers applied twice are all accounted for).  Convolutions
called as functions outside those modules (``F.conv2d`` with a fixed
kernel, e.g. LiteSR's bicubic upsampler) are caught by a
:class:`~torch.overrides.TorchFunctionMode` and counted too.  Biases,
activations, additions and pixel shuffles are not multiply-adds and are
not counted, as in the SR literature's "Mult-Adds".

:func:`macs_per_output_pixel` divides by the output pixels: the figure that
compares networks working at LR and at HR resolution fairly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.overrides import TorchFunctionMode

from superres.models.ensemble import forward_takes_scale

__all__ = ["CostReport", "count_macs", "count_parameters", "macs_per_output_pixel", "model_cost"]

_HOOKED = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose2d, nn.Linear)


def count_parameters(model: nn.Module) -> int:
    """Number of parameters (buffers such as fixed resize kernels excluded)."""
    return sum(p.numel() for p in model.parameters())


def _conv_macs(weight_shape: tuple[int, ...], out: torch.Tensor, transposed: bool, inp: torch.Tensor, groups: int) -> int:
    if transposed:  # every input element meets out_channels/groups * kernel weights
        out_per_group = weight_shape[1]
        return inp.numel() * out_per_group * math.prod(weight_shape[2:])
    in_per_group = weight_shape[1]
    return out.numel() * in_per_group * math.prod(weight_shape[2:])


class _FunctionalConvCounter(TorchFunctionMode):
    """Counts F.conv*/F.linear calls made while no hooked module is running."""

    def __init__(self, state: dict) -> None:
        super().__init__()
        self.state = state

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        if self.state["depth"] == 0:
            if func in (F.conv1d, F.conv2d, F.conv3d, torch.conv2d, torch.conv1d, torch.conv3d):
                weight = args[1] if len(args) > 1 else kwargs["weight"]
                groups = kwargs.get("groups", args[6] if len(args) > 6 else 1)
                self.state["macs"] += _conv_macs(tuple(weight.shape), out, False, args[0], groups)
                self.state["functional"] += 1
            elif func in (F.linear, torch.nn.functional.linear):
                weight = args[1] if len(args) > 1 else kwargs["weight"]
                self.state["macs"] += out.numel() * weight.shape[1]
                self.state["functional"] += 1
        return out


def count_macs(model: nn.Module, *inputs: torch.Tensor, **kwargs: Any) -> int:
    """Multiply-adds of ``model(*inputs, **kwargs)`` (one forward pass, under no_grad)."""
    state = {"macs": 0, "depth": 0, "functional": 0}

    def pre(module, args):
        state["depth"] += 1

    def post(module, args, out):
        state["depth"] -= 1
        if state["depth"] > 0:
            return  # a hooked module inside another: the outer one counts
        x = args[0]
        if isinstance(module, nn.Linear):
            state["macs"] += out.numel() * module.in_features
        else:
            transposed = isinstance(module, nn.ConvTranspose2d)
            state["macs"] += _conv_macs(tuple(module.weight.shape), out, transposed, x, module.groups)

    handles = []
    for module in model.modules():
        if isinstance(module, _HOOKED):
            handles.append(module.register_forward_pre_hook(pre))
            handles.append(module.register_forward_hook(post))
    try:
        with torch.no_grad(), _FunctionalConvCounter(state):
            model(*inputs, **kwargs)
    finally:
        for handle in handles:
            handle.remove()
    return int(state["macs"])


def _model_dtype_device(model: nn.Module) -> tuple[torch.dtype, torch.device]:
    for p in model.parameters():
        return p.dtype, p.device
    return torch.float32, torch.device("cpu")


def _input_channels(model: nn.Module) -> int:
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
            return module.in_channels
    return 1


def macs_per_output_pixel(
    model: nn.Module,
    *,
    feed: str = "upsampled",
    scale: int | None = None,
    size: int = 48,
) -> float:
    """Multiply-adds per output pixel (per image, all channels of a pixel together).

    ``feed`` is the card's ``input``: ``"upsampled"`` (the network maps an
    HR-sized input to an HR-sized output) or ``"lr"`` (it upsamples by
    ``scale`` itself; ``scale`` is passed to a multi-scale ``forward(x,
    scale)``).  Measured on a ``size x size`` input; with 'same' padding the
    count is exactly proportional to the pixel count.
    """
    dtype, device = _model_dtype_device(model)
    x = torch.zeros(1, _input_channels(model), size, size, dtype=dtype, device=device)
    was_training = model.training
    model.eval()
    try:
        args = (x,) if feed == "upsampled" or scale is None or not forward_takes_scale(model) else (x, int(scale))
        with torch.no_grad():
            out = model(*args)
        macs = count_macs(model, *args)
    finally:
        model.train(was_training)
    return macs / (out.shape[-2] * out.shape[-1])


@dataclass(frozen=True)
class CostReport:
    params: int
    macs_per_pixel: float


def model_cost(model: nn.Module, card: dict, scale: float) -> CostReport:
    """Parameters and multiply-adds per output pixel of a network at ``scale`` (for a card's ``input``)."""
    feed = card.get("input", "upsampled")
    net_scale = None if feed == "upsampled" else math.ceil(scale)
    return CostReport(count_parameters(model), macs_per_output_pixel(model, feed=feed, scale=net_scale))
