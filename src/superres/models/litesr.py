"""LiteSR: our lightweight network, working in low-resolution space.

Design (chosen for quality per multiply-add on a CPU):

* everything runs at LR resolution; one 3x3 convolution makes ``s^2`` maps
  that a pixel shuffle turns into the HR residual (Shi et al. 2016);
* the residual is added to the *MATLAB bicubic* upscale of the input, done by
  a fixed convolution (:class:`MatlabBicubicUpsample`), so the network only
  learns what bicubic misses (VDSR's insight) and starts from bicubic quality;
* the body is plain residual blocks (EDSR, no batch norm) whose 3x3
  convolutions train as re-parameterisable 3x3 + 1x1 + identity branches and
  fuse into single 3x3 convolutions for inference (:meth:`fuse`);
* one body serves several scales, each with its own small tail (MDSR), so
  x2, x3 and x4 share what they learn.

Variants: ``tiny`` (32 channels, 4 blocks), ``small`` (48, 6), ``base`` (64, 8).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from superres.models.layers import MatlabBicubicUpsample, RepConv3x3

__all__ = ["LiteSR", "VARIANTS"]

VARIANTS = {
    "tiny": {"channels": 32, "blocks": 4},
    "small": {"channels": 48, "blocks": 6},
    "base": {"channels": 64, "blocks": 8},
}


class _Block(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = RepConv3x3(channels, channels)
        self.conv2 = RepConv3x3(channels, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(F.relu(self.conv1(x)))


class LiteSR(nn.Module):
    """Input ``(B, 1, h, w)`` LR Y in [0, 1]; output ``(B, 1, s*h, s*w)``.

    ``forward(x, scale)`` picks the tail; with one scale, ``scale`` may be omitted.
    """

    def __init__(self, scales: tuple[int, ...] | list[int] = (2, 3, 4), channels: int = 48, blocks: int = 6, channels_in: int = 1) -> None:
        super().__init__()
        self.scales = tuple(int(s) for s in scales)
        self.head = nn.Conv2d(channels_in, channels, 3, padding=1)
        self.body = nn.Sequential(*[_Block(channels) for _ in range(blocks)])
        self.tails = nn.ModuleDict({str(s): nn.Conv2d(channels, channels_in * s * s, 3, padding=1) for s in self.scales})
        self.upsamplers = nn.ModuleDict({str(s): MatlabBicubicUpsample(s) for s in self.scales})
        self.blocks = blocks
        for tail in self.tails.values():
            # Start as plain bicubic: the residual branch begins at zero.
            nn.init.zeros_(tail.weight)
            nn.init.zeros_(tail.bias)

    @property
    def border(self) -> int:
        """Receptive radius in LR pixels (convolutions plus the bicubic taps)."""
        return 2 + 2 * self.blocks + 1 + 2

    def forward(self, x: torch.Tensor, scale: int | None = None) -> torch.Tensor:
        """SR of LR ``x`` at ``scale`` (optional if the model serves one): MATLAB bicubic plus the learned residual."""
        if scale is None:
            if len(self.scales) != 1:
                raise ValueError(f"this LiteSR serves scales {self.scales}: pass scale")
            scale = self.scales[0]
        key = str(int(scale))
        # The head reads the image itself, in fp32 even under bf16 autocast: rounding the input
        # to bf16's 8-bit mantissa (about half a grey level) cost BSD100 x2 0.004 dB, all of
        # bf16's loss; in fp32 it is 9 multiply-adds per feature, and the blocks' skip
        # connections then carry the features in fp32 while their convolutions run in bf16.
        with torch.autocast(device_type=x.device.type, enabled=False):
            feat = self.head(x.float())
        feat = self.body(feat)
        residual = F.pixel_shuffle(self.tails[key](feat), int(scale))
        # The bicubic base stays in float32 even under bf16 autocast: it carries the whole
        # image, and bf16's 8-bit mantissa would cost about half a grey level.
        with torch.autocast(device_type=x.device.type, enabled=False):
            base = self.upsamplers[key](x.float())
        return base + residual.float()

    def fuse(self) -> "LiteSR":
        """Merge every re-parameterisable branch (call before inference or export)."""
        for module in self.modules():
            if isinstance(module, RepConv3x3):
                module.fuse()
        return self
