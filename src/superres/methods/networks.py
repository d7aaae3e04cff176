"""The trained networks as registered methods (weights chosen per scale from their cards)."""

from __future__ import annotations

from superres.methods.base import MethodInfo
from superres.methods.learned import learned_method_factory

__all__ = ["srcnn_915", "srcnn_935", "srcnn_955", "vdsr", "litesr_small", "scn", "cscn"]

_SRCNN_PAPER = "Dong, Loy, He, Tang: Image super-resolution using deep convolutional networks, ECCV 2014 / TPAMI 2015"


def _srcnn(kernels: str):
    # The authors' test code feeds the uint8-rounded Y of the LR image (rgb2ycbcr on uint8).
    return learned_method_factory(
        MethodInfo(
            name=f"srcnn-{kernels}",
            family="cnn",
            summary=f"SRCNN {kernels[0]}-{kernels[1]}-{kernels[2]}: three convolutions on the bicubic-upscaled Y",
            paper=_SRCNN_PAPER,
            year=2014,
        ),
        round_y_input=True,
    )


srcnn_915 = _srcnn("915")
srcnn_935 = _srcnn("935")
srcnn_955 = _srcnn("955")

# VDSR's test code converts the uint8 LR to double before rgb2ycbcr: no rounding of Y.
vdsr = learned_method_factory(
    MethodInfo(
        name="vdsr",
        family="cnn",
        summary="VDSR: 20 3x3 convolutions, residual learning, one model for all scales",
        paper="Kim, Lee, Lee: Accurate image super-resolution using very deep convolutional networks, CVPR 2016",
        year=2016,
    ),
    any_scale=True,
)

litesr_small = learned_method_factory(
    MethodInfo(
        name="litesr-small",
        family="cnn",
        summary="LiteSR-small (ours): LR-space re-parameterised residual net + pixel shuffle over bicubic",
        paper="superres (this project)",
        year=2026,
    ),
    any_scale=True,  # fractional factors: the next trained scale, then MATLAB bicubic down
)

_SCN_PAPER = "Wang, Liu, Han, Huang: Deep networks for image super-resolution with sparse prior, ICCV 2015"

scn = learned_method_factory(
    MethodInfo(
        name="scn",
        family="cnn",
        summary="SCN: Yang's sparse coding as a network (features, LISTA, HR patches, averaging) on the bicubic Y",
        paper=_SCN_PAPER,
        year=2015,
    ),
)

cscn = learned_method_factory(
    MethodInfo(
        name="cscn",
        family="cnn",
        summary="cascaded SCN: bicubic x2 + SCN, ceil(log2 s) times, then bicubic to the exact size (any factor)",
        paper=_SCN_PAPER,
        year=2015,
    ),
    any_scale=True,  # one weights file serves every factor: the cascade takes the factor itself
)
