"""Pure, batched tensor maths of the SR protocol: resize, colour, cropping."""

from superres.ops.color import rgb_to_y_bt601, rgb_to_ycbcr_bt601, round_half_away, ycbcr_bt601_to_rgb
from superres.ops.crop import modcrop, shave
from superres.ops.resize import imresize_matlab

__all__ = [
    "imresize_matlab",
    "rgb_to_ycbcr_bt601",
    "ycbcr_bt601_to_rgb",
    "rgb_to_y_bt601",
    "round_half_away",
    "modcrop",
    "shave",
]
