"""Building blocks shared by the architectures."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from superres.ops.resize import resize_plan

__all__ = ["MatlabBicubicUpsample", "RepConv3x3"]


class MatlabBicubicUpsample(nn.Module):
    """MATLAB ``imresize(x, s, 'bicubic')`` for an integer ``s`` as a fixed convolution.

    Upscaling by an integer factor samples the input on a periodic grid, so
    each of the ``s x s`` output phases is a fixed 2-D (separable) filter over
    a few input pixels: a convolution with ``s^2`` output channels followed by
    a pixel shuffle, with replicated borders (the classic MATLAB's clamping).
    Equal to :func:`~superres.ops.resize.imresize_matlab` in float up to
    summation order; cheap, and exportable to ONNX with dynamic sizes.
    """

    def __init__(self, scale: int) -> None:
        super().__init__()
        self.scale = int(scale)
        probe = 4 * self.scale + 16
        plan = resize_plan(probe, probe * self.scale, float(self.scale))
        # Interior phases: output j = k * s + r reads input starts[j] + arange(taps).
        k0 = 4  # well inside, away from the clamped border
        starts = plan.starts[k0 * self.scale : (k0 + 1) * self.scale] - k0
        weights = plan.weights[k0 * self.scale : (k0 + 1) * self.scale]
        lo, hi = int(starts.min()), int(starts.max()) + plan.taps
        taps1d = torch.zeros(self.scale, hi - lo, dtype=torch.float64)
        for r in range(self.scale):
            taps1d[r, starts[r] - lo : starts[r] - lo + plan.taps] = torch.from_numpy(weights[r])
        kernel = torch.einsum("ai,bj->abij", taps1d, taps1d).reshape(self.scale**2, 1, hi - lo, hi - lo)
        self.register_buffer("kernel", kernel.float(), persistent=False)
        self.pad = (-lo, hi - 1, -lo, hi - 1)  # left, right, top, bottom (input index 0 at offset -lo)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """MATLAB bicubic x``scale`` of ``(B, C, H, W)`` ``x``: ``(B, C, H * scale, W * scale)``."""
        b, c, h, w = x.shape
        y = F.pad(x.reshape(b * c, 1, h, w), self.pad, mode="replicate")
        y = F.conv2d(y, self.kernel.to(x.dtype))
        y = y[:, :, :h, :w]
        return F.pixel_shuffle(y, self.scale).reshape(b, c, h * self.scale, w * self.scale)


class RepConv3x3(nn.Module):
    """A 3x3 convolution trained as 3x3 + 1x1 + identity branches, fused into one 3x3 for inference.

    The extra branches make optimisation easier (Ding et al., RepVGG 2021;
    Zhang et al., ECBSR 2021) and cost nothing once :meth:`fuse` has merged
    them: a 1x1 kernel is a 3x3 kernel with zeros around its centre, and the
    identity is a 1x1 kernel of ones on the diagonal.
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv3 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 1)
        self.identity = in_channels == out_channels
        self.fused: nn.Conv2d | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The fused 3x3 convolution once :meth:`fuse` ran, else the sum of the branches."""
        if self.fused is not None:
            return self.fused(x)
        out = self.conv3(x) + self.conv1(x)
        return out + x if self.identity else out

    def fused_kernel(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(weight, bias)`` of the single 3x3 convolution equal to the three branches."""
        weight = self.conv3.weight.detach().clone()
        weight[:, :, 1:2, 1:2] += self.conv1.weight.detach()
        if self.identity:
            idx = torch.arange(weight.shape[0])
            weight[idx, idx, 1, 1] += 1.0
        return weight, (self.conv3.bias + self.conv1.bias).detach().clone()

    def fuse(self) -> None:
        """Replace the branches by one equivalent 3x3 convolution (inference only; idempotent)."""
        if self.fused is not None:
            return
        weight, bias = self.fused_kernel()
        conv = nn.Conv2d(weight.shape[1], weight.shape[0], 3, padding=1).to(weight.device, weight.dtype)
        conv.weight.data.copy_(weight)
        conv.bias.data.copy_(bias)
        self.fused = conv
        del self.conv3, self.conv1  # the branches are gone: parameters and state_dict are the fused ones
