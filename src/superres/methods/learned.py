"""Adapter that turns trained networks into :class:`SRMethod` s.

A learned method (``srcnn-955``, ``vdsr``, ...) is backed by one or more
shipped weights files whose cards say ``"method": "<name>"`` and list the
``scales`` they serve.  The network for a scale is loaded on first use.

Cards also say how the network is fed (``"input"``):

``"upsampled"``
    the Y image bicubic-upscaled to the output size (SRCNN, VDSR, SCN);
``"lr"``
    the LR Y image itself; the network upsamples by an integer factor
    (sub-pixel models).  A fractional scale runs the next integer model and
    resizes the result with MATLAB bicubic.  A network whose class says
    ``any_scale = True`` (the SCN cascade) is given the requested factor itself
    and makes the exact output size.

A card may also ask for a test-time self-ensemble (``"self_ensemble": N``,
see :mod:`superres.models.ensemble`): the network is then run N times on
flipped/transposed copies and the outputs averaged, wherever it is used
(upscale, evaluate, tiling, cost counting, export).  The ``self_ensemble``
option of a method overrides the card.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import replace
from functools import lru_cache
from typing import TYPE_CHECKING, Callable

import torch
from torch import nn

from superres.errors import InvalidArgumentError, WeightsError
from superres.methods.base import MethodInfo, YChannelMethod
from superres.models.ensemble import forward_takes_scale
from superres.ops.resize import imresize_matlab

if TYPE_CHECKING:
    from typing import Any

__all__ = ["LearnedMethod", "weights_for_method", "weights_from_file", "learned_method_factory", "network_scale"]


@lru_cache(maxsize=None)
def _shipped_cards() -> tuple[tuple[str, dict], ...]:
    from superres.weights.store import SHIPPED_DIR, read_card, shipped_weight_names

    return tuple((name, read_card(SHIPPED_DIR / f"{name}.safetensors")) for name in shipped_weight_names())


def weights_from_file(weights: str, method: str) -> dict[float, str]:
    """``{scale: weights}`` for one weights file (or shipped name) given by the user: its card
    says the scales it serves, and must name ``method`` (another's file would fail to load, or
    run as garbage)."""
    from superres.weights.store import read_card, weights_path

    path = weights_path(weights)
    card = read_card(path)
    if card.get("method", method) != method:
        raise WeightsError(f"{path.name} holds {card['method']!r} weights, not {method!r}")
    return {float(s): weights for s in card.get("scales", [])}


def weights_for_method(method: str) -> dict[float, str]:
    """``{scale: weights name}`` of the shipped weights whose card names ``method``."""
    table: dict[float, str] = {}
    for name, card in _shipped_cards():
        if card.get("method") != method:
            continue
        for scale in card.get("scales", []):
            if float(scale) in table:
                raise WeightsError(f"two shipped weights serve {method} x{scale}: {table[float(scale)]} and {name}")
            table[float(scale)] = name
    return table


class LearnedMethod(YChannelMethod):
    """A network on the Y channel, with its weights chosen per scale."""

    def __init__(
        self,
        info: MethodInfo,
        weights: dict[float, str],
        *,
        any_scale: bool = False,
        round_y_input: bool = False,
        device: str | torch.device = "cpu",
        precision: str = "fp32",
        self_ensemble: int | None = None,
    ) -> None:
        if not weights:
            raise WeightsError(f"no weights are shipped for {info.name!r}; train them with `superres train`")
        self.weights = dict(weights)
        self.any_scale = any_scale
        self.round_y_input = round_y_input
        self.device = torch.device(device)
        if precision not in ("fp32", "bf16"):
            raise InvalidArgumentError(f"precision must be fp32 or bf16, got {precision!r}")
        self.precision = precision
        self.self_ensemble = self_ensemble  # None: as each weights card says
        # keyed by (weights name, self-ensemble override): changing the override reloads
        self._models: dict[tuple[str, int | None], tuple[nn.Module, dict]] = {}
        scales = None if any_scale else tuple(sorted(self.weights))
        self.info = replace(info, scales=scales, trainable=True, channels="y")

    @classmethod
    def from_model(cls, info: MethodInfo, model: nn.Module, card: dict, **options: Any) -> "LearnedMethod":
        """Wrap a network already in memory (e.g. during training, for validation).

        A network that takes any factor itself (``any_scale``, the SCN cascade) serves any
        scale, whatever scales its card lists.
        """
        options.setdefault("any_scale", getattr(model, "any_scale", False))
        key = f"<in-memory {info.name}>"
        method = cls(info, {float(s): key for s in card.get("scales", [])}, **options)
        method._models[(key, method.self_ensemble)] = (model, card)
        return method

    def weights_for_scale(self, scale: float) -> str:
        """Name (or path) of the weights this method runs at ``scale``."""
        if scale in self.weights:
            return self.weights[scale]
        if self.any_scale:
            # Any factor: the weights of the smallest trained scale above it (the network
            # then enlarges at least as much as asked, and the rest is a bicubic resize down),
            # else of the largest.
            above = [s for s in self.weights if s >= scale]
            return self.weights[min(above) if above else max(self.weights)]
        raise InvalidArgumentError(f"{self.info.name} has no weights for x{scale:g}")

    def model_for_scale(self, scale: float) -> tuple[nn.Module, dict]:
        """The network (eval mode, on ``self.device``) and card for ``scale``."""
        from superres.models.ensemble import inference_network
        from superres.models.registry import model_from_weights

        name = self.weights_for_scale(float(scale))
        key = (name, self.self_ensemble)
        if key not in self._models:
            model, card = model_from_weights(name)
            model = inference_network(model, card, self.self_ensemble).to(self.device)
            if self.device.type == "cpu":
                model = model.to(memory_format=torch.channels_last)
            self._models[key] = (model, card)
        return self._models[key]

    def ensemble_passes(self, scale: float) -> int:
        """Passes of the self-ensemble the network for ``scale`` runs (1: none)."""
        from superres.models.ensemble import SelfEnsemble

        model, _ = self.model_for_scale(scale)
        return model.passes if isinstance(model, SelfEnsemble) else 1

    def run_network(self, model: nn.Module, x: torch.Tensor, net_scale: int | None = None) -> torch.Tensor:
        """Apply the network to a ``(B, 1, H, W)`` float tensor, honouring device and precision.

        ``net_scale`` is passed to sub-pixel networks (``input="lr"``), which upsample themselves.
        """
        x = x.to(self.device, torch.float32)
        if self.device.type == "cpu":
            x = x.contiguous(memory_format=torch.channels_last)
        # bf16 only where asked (autocast does not exist for every device type);
        # no_grad, not inference_mode: the result is an ordinary tensor the caller may change in place
        bf16 = self.precision == "bf16"
        with torch.no_grad(), torch.autocast(self.device.type, torch.bfloat16) if bf16 else contextlib.nullcontext():
            y = model(x) if net_scale is None else model(x, net_scale)
        return y.float().contiguous()

    def network_input(self, y: torch.Tensor, scale: float) -> tuple[torch.Tensor, float]:
        """What the network sees for LR ``y`` and the factor it applies itself."""
        model, card = self.model_for_scale(scale)
        net_scale = network_scale(model, card, scale)
        return (imresize_matlab(y, scale) if card.get("input", "upsampled") == "upsampled" else y), net_scale

    def upscale_y(self, y: torch.Tensor, scale: float) -> torch.Tensor:
        """Run the network for ``scale`` on ``y`` as its card says; a result of another factor is resized to ``scale``."""
        model, card = self.model_for_scale(scale)
        x, net_scale = self.network_input(y, scale)
        if card.get("input", "upsampled") == "upsampled" or not forward_takes_scale(model):
            arg = None  # a one-factor sub-pixel network's forward takes the image alone
        else:  # sub-pixel models take an integer factor, any-scale models the requested one
            arg = int(net_scale) if float(net_scale).is_integer() else net_scale
        out = self.run_network(model, x, arg).to(y.device, y.dtype)
        if net_scale != 1.0 and net_scale != scale:
            # Resize by the factor, not to a size: the sampling grid then does not depend on
            # the image size, so tiles give the same pixels as the whole image.
            out = imresize_matlab(out, scale / net_scale)
        return out


def network_scale(model: nn.Module, card: dict, scale: float) -> float:
    """The factor a network applies itself when its method is asked for ``scale``.

    1 for upsampled input; the requested factor for an ``any_scale`` network; else
    the smallest scale of its card at or above ``scale`` (the largest if none is),
    whose result is then resized to ``scale``.
    """
    if card.get("input", "upsampled") == "upsampled":
        return 1.0
    if getattr(model, "any_scale", False):
        return float(scale)
    trained = sorted(float(s) for s in card.get("scales", [math.ceil(scale)]))
    above = [s for s in trained if s >= scale]
    return above[0] if above else trained[-1]


def learned_method_factory(info: MethodInfo, *, any_scale: bool = False,
                           round_y_input: bool = False) -> Callable[..., LearnedMethod]:
    """A registry factory: ``factory(weights=None, device='cpu', precision='fp32', self_ensemble=None)``."""

    def factory(
        *,
        weights: dict[float, str] | str | None = None,
        device: str = "cpu",
        precision: str = "fp32",
        self_ensemble: int | None = None,
    ) -> LearnedMethod:
        if isinstance(weights, str):
            weights = weights_from_file(weights, info.name)
        table = weights if weights is not None else weights_for_method(info.name)
        return LearnedMethod(
            info, table, any_scale=any_scale, round_y_input=round_y_input, device=device, precision=precision,
            self_ensemble=self_ensemble,
        )

    return factory
