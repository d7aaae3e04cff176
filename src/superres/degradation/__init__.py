"""HR -> LR degradation pipelines by name (MATLAB bicubic, blur + subsample)."""

from superres.degradation.pipelines import (
    bicubic_downscale,
    bicubic_upsample,
    gaussian_blur_downsample,
    get_degradation,
    make_lr,
    modcrop_to_scale,
)

__all__ = [
    "bicubic_downscale",
    "bicubic_upsample",
    "gaussian_blur_downsample",
    "get_degradation",
    "make_lr",
    "modcrop_to_scale",
]
