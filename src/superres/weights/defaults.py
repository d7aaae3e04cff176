"""Which method ``superres upscale`` (and the method name ``default``) uses per scale.

This is the one place that records the choice.  A scale not listed uses the
entry for the next larger listed scale (a cascade or multi-scale model
handles any factor), else the largest.
"""

from __future__ import annotations

from superres.errors import InvalidArgumentError

__all__ = ["DEFAULT_METHOD_BY_SCALE", "default_method_for_scale"]

# LiteSR-small (ours) is the best shipped model at every scale (see `superres models`
# and docs/models.md), ahead of our own VDSR (short of its paper: a few GPU minutes of
# training); the "better than VDSR" comparison is against the released VDSR's
# published numbers.
DEFAULT_METHOD_BY_SCALE: dict[int, str] = {
    2: "litesr-small",
    3: "litesr-small",
    4: "litesr-small",
}


def default_method_for_scale(scale: float | None) -> str:
    """The method name ``default`` stands for at ``scale``."""
    if scale is None:
        raise InvalidArgumentError("the method 'default' depends on the scale: give a scale")
    scale = float(scale)
    if scale in DEFAULT_METHOD_BY_SCALE:
        return DEFAULT_METHOD_BY_SCALE[int(scale)]
    larger = [s for s in sorted(DEFAULT_METHOD_BY_SCALE) if s >= scale]
    return DEFAULT_METHOD_BY_SCALE[larger[0] if larger else max(DEFAULT_METHOD_BY_SCALE)]
