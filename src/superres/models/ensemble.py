"""Test-time self-ensemble: a network's outputs averaged over flips and transposes of its input.

An SR network is not exactly equivariant to the eight symmetries of the square
(flips, transposes, 90-degree rotations), so running it on a transformed image,
undoing the transform on the output and averaging cancels part of its error
(Timofte et al., "Seven ways to improve example-based single image super
resolution", CVPR 2016; EDSR's "+" models).  Each pass costs one forward of
the network, and the cost counter sees every pass, so a card's multiply-adds
per pixel are what the ensemble really does.

A weights card asks for it with ``"self_ensemble": N`` (N passes, 1 = off);
:func:`inference_network` is the one place that turns a loaded network into
what inference runs.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["ENSEMBLE_PASSES", "SelfEnsemble", "inference_network", "forward_takes_scale"]

# (transpose, flip rows, flip columns), in the order passes are added: 2 passes = identity
# and transpose (the cheapest pair that differs in every direction), 8 = the whole group.
_TRANSFORMS = (
    (False, False, False),
    (True, False, False),
    (False, False, True),
    (False, True, False),
    (False, True, True),
    (True, False, True),
    (True, True, False),
    (True, True, True),
)
ENSEMBLE_PASSES = (1, 2, 4, 8)


def _apply(x: torch.Tensor, transpose: bool, flip_rows: bool, flip_cols: bool) -> torch.Tensor:
    if transpose:
        x = x.transpose(-1, -2)
    dims = [d for d, on in ((-2, flip_rows), (-1, flip_cols)) if on]
    return x.flip(dims) if dims else x


def _undo(y: torch.Tensor, transpose: bool, flip_rows: bool, flip_cols: bool) -> torch.Tensor:
    dims = [d for d, on in ((-2, flip_rows), (-1, flip_cols)) if on]
    if dims:
        y = y.flip(dims)
    return y.transpose(-1, -2) if transpose else y


def forward_takes_scale(model: nn.Module) -> bool:
    """Whether ``model.forward`` takes the upscaling factor after the image (multi-scale sub-pixel nets)."""
    import inspect

    model = model.net if isinstance(model, SelfEnsemble) else model
    try:
        return len(inspect.signature(model.forward).parameters) >= 2
    except (TypeError, ValueError):
        return False


class SelfEnsemble(nn.Module):
    """``net`` run on ``passes`` transformed copies of the input, outputs mapped back and averaged."""

    def __init__(self, net: nn.Module, passes: int) -> None:
        super().__init__()
        if passes not in ENSEMBLE_PASSES:
            raise ValueError(f"self-ensemble passes must be one of {ENSEMBLE_PASSES}, got {passes}")
        self.net = net
        self.passes = passes
        # What tiling, input preparation and export read from a network, passed through
        # unchanged (the passes run one after another: one pass's working memory)
        for attr in ("receptive_radius", "border", "any_scale", "working_bytes_per_input_pixel", "export_refusal"):
            if hasattr(net, attr):
                setattr(self, attr, getattr(net, attr))

    def forward(self, x: torch.Tensor, *scale) -> torch.Tensor:
        """Mean of ``net(x, *scale)`` over the first ``passes`` flips/transposes, each mapped back."""
        total = None
        for transform in _TRANSFORMS[: self.passes]:
            y = _undo(self.net(_apply(x, *transform), *scale), *transform)
            total = y if total is None else total + y
        return total / self.passes


def inference_network(model: nn.Module, card: dict, self_ensemble: int | None = None) -> nn.Module:
    """The network as inference runs it: re-parameterised branches fused, and wrapped in a
    :class:`SelfEnsemble` when ``self_ensemble`` (default: the card's ``"self_ensemble"``) is over 1."""
    from superres.errors import InvalidArgumentError

    if callable(getattr(model, "fuse", None)):
        model.fuse()  # merge re-parameterised training branches: same output, fewer operations
    passes = int(card.get("self_ensemble", 1) if self_ensemble is None else self_ensemble)
    if passes not in ENSEMBLE_PASSES:
        raise InvalidArgumentError(f"self-ensemble passes must be one of {', '.join(map(str, ENSEMBLE_PASSES))}, got {passes}")
    return model if passes == 1 else SelfEnsemble(model, passes).eval()
