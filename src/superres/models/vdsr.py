"""VDSR (Kim, Lee, Lee; CVPR 2016): very deep residual network.

``depth`` 3x3 convolutions with ``width`` channels (paper: 20 and 64), ReLU
after all but the last, zero padding so the size is kept, He initialisation,
and a global residual: output = bicubic input + predicted residual.  One
model serves every scale because its input is already upscaled.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["VDSR"]


class VDSR(nn.Module):
    """Input/output ``(B, 1, H, W)`` Y in [0, 1]; ``residual=False`` predicts the image itself (ablation).

    ``fp32_ends=False`` lets bf16 autocast round the first and last convolutions too, as every
    stage before session 13 trained; it exists so a GPU can time both (benchmarks/bench_training.py).
    """

    def __init__(self, depth: int = 20, width: int = 64, channels: int = 1, residual: bool = True,
                 fp32_ends: bool = True) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(channels, width, 3, padding=1), nn.ReLU(inplace=True)]
        for _ in range(depth - 2):
            layers += [nn.Conv2d(width, width, 3, padding=1), nn.ReLU(inplace=True)]
        layers.append(nn.Conv2d(width, channels, 3, padding=1))
        self.body = nn.Sequential(*layers)
        self.residual = residual
        self.depth = depth
        self.fp32_ends = fp32_ends
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(m.bias)

    @property
    def border(self) -> int:
        """Receptive radius in pixels of the (upscaled) input."""
        return self.depth

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The convolution stack on the bicubic-upscaled ``x``, plus ``x`` if ``residual``."""
        # The first and last convolutions stay in float32 under bf16 autocast (as LiteSR's
        # head): rounding the image to bf16's 8-bit mantissa costs up to half a grey level, and
        # so does rounding the predicted residual; they are 1 -> 64 and 64 -> 1 channels, under
        # 0.2% of the multiply-adds.  Without autocast nothing changes.
        if not self.fp32_ends:
            out = self.body(x)
            return x + out if self.residual else out
        head, middle, tail = self.body[:2], self.body[2:-1], self.body[-1]
        with torch.autocast(device_type=x.device.type, enabled=False):
            h = head(x.float())
        h = middle(h)
        with torch.autocast(device_type=x.device.type, enabled=False):
            out = tail(h.float())
        return x + out if self.residual else out
