"""SRCNN (Dong, Loy, He, Tang; ECCV 2014 / TPAMI 2015).

Three convolutions on the bicubic-upscaled Y image: patch extraction
(``f1 x f1``, ``n1`` filters), non-linear mapping (``f2 x f2``, ``n2``) and
reconstruction (``f3 x f3``, 1 filter).  Trained with 'valid' convolutions
(the label is the centre of the input); at inference every layer pads by
replicating the edge pixels, as the authors' MATLAB test code does, so the
whole image comes out at full size.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from superres.errors import InvalidArgumentError

__all__ = ["SRCNN"]


class SRCNN(nn.Module):
    """SRCNN ``f1-f2-f3`` with ``n1``/``n2`` filters (paper default 9-5-5, 64, 32).

    Input ``(B, 1, H, W)`` bicubic-upscaled Y in [0, 1]; output the same size
    when ``padding="replicate"`` (inference), or ``H - (f1 + f2 + f3 - 3)``
    when ``padding="valid"`` (the paper's training).
    """

    def __init__(
        self, f1: int = 9, f2: int = 5, f3: int = 5, n1: int = 64, n2: int = 32, channels: int = 1, init: str = "gaussian"
    ) -> None:
        super().__init__()
        if init not in ("gaussian", "he"):
            raise InvalidArgumentError(f"init must be 'gaussian' or 'he', got {init!r}")
        self.kernel_sizes = (f1, f2, f3)
        self.conv1 = nn.Conv2d(channels, n1, f1)
        self.conv2 = nn.Conv2d(n1, n2, f2)
        self.conv3 = nn.Conv2d(n2, channels, f3)
        self.padding = "replicate"
        for conv in (self.conv1, self.conv2, self.conv3):
            if init == "gaussian" or conv is self.conv3:
                nn.init.normal_(conv.weight, std=1e-3)  # the paper's Gaussian initialisation
            else:
                # With std 1e-3 the hidden pre-activations start at about the bias alone and
                # Adam drives about half the units of conv1/conv2 negative for good (dead
                # ReLUs, measured on our runs); He scaling keeps them alive.
                nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")
            nn.init.zeros_(conv.bias)

    @property
    def border(self) -> int:
        """Pixels lost on each side by 'valid' convolutions (the receptive radius)."""
        return sum(k // 2 for k in self.kernel_sizes)

    def _conv(self, conv: nn.Conv2d, x: torch.Tensor) -> torch.Tensor:
        if self.padding == "replicate":
            p = conv.kernel_size[0] // 2
            x = F.pad(x, (p, p, p, p), mode="replicate")
        return conv(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The three convolutions (ReLU after the first two) on the bicubic-upscaled ``x``."""
        x = F.relu(self._conv(self.conv1, x))
        x = F.relu(self._conv(self.conv2, x))
        return self._conv(self.conv3, x)
