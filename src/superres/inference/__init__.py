"""Inference on images of any size: tiling with bounded memory, device and precision policy.

* :mod:`superres.inference.device`: device (``auto``/cpu/cuda), threads,
  precision (fp32/bf16), memory budgets;
* :mod:`superres.inference.tiling`: receptive fields, tile plans, tiled
  execution equal to the untiled result (for networks, up to the float rounding
  of convolutions blocked differently per tile size: about 1e-6, so a rare
  8-bit pixel may move by 1 level);
* :mod:`superres.inference.pipeline`: whole images (gray, RGB, alpha, 8/16-bit).
"""

from superres.inference.device import configure_threads, default_max_memory, parse_memory, resolve_device
from superres.inference.pipeline import prepare_method, upscale_array, upscale_tensor
from superres.inference.tiling import TilePlan, plan_tiles, receptive_radius, run_tiled

__all__ = [
    "TilePlan",
    "configure_threads",
    "default_max_memory",
    "parse_memory",
    "plan_tiles",
    "prepare_method",
    "receptive_radius",
    "resolve_device",
    "run_tiled",
    "upscale_array",
    "upscale_tensor",
]
