"""YChannelMethod's colour path: Cb and Cr are upscaled with MATLAB bicubic at the
input's precision, a network's float32 Y does not drag a float64 result down to float32, and
the Y a network is given is rounded (or not) as its paper's test code does."""

import torch

from superres.methods.base import MethodInfo, YChannelMethod
from superres.ops.color import rgb_to_ycbcr_bt601
from superres.ops.resize import imresize_matlab


class _Float32Y(YChannelMethod):
    """Upscales Y by bicubic and hands it back in float32, like a float32 network would."""

    info = MethodInfo(name="float32-y", family="cnn", summary="bicubic Y, returned as float32")

    def upscale_y(self, y, scale):
        return imresize_matlab(y, scale).to(torch.float32)


def _lr():
    return torch.rand(2, 3, 9, 11, generator=torch.Generator().manual_seed(3), dtype=torch.float64)


def test_cbcr_is_matlab_bicubic_of_the_input_chroma():
    lr = _lr()
    out = _Float32Y().upscale(lr, 3)
    got = rgb_to_ycbcr_bt601(out)[:, 1:]
    want = imresize_matlab(rgb_to_ycbcr_bt601(lr)[:, 1:], 3.0)
    # float64 throughout on the chroma path: agreement far below any kernel difference
    torch.testing.assert_close(got, want, rtol=0, atol=1e-9)
    # and not some other kernel (lanczos3 / triangle differ by far more than that)
    for other in ("lanczos3", "triangle"):
        assert (got - imresize_matlab(rgb_to_ycbcr_bt601(lr)[:, 1:], 3.0, kernel=other)).abs().max() > 1e-3


def test_float64_input_gives_float64_output_even_from_a_float32_y():
    lr = _lr()
    out = _Float32Y().upscale(lr, 2)
    assert out.dtype == torch.float64
    assert _Float32Y().upscale(lr.float(), 2).dtype == torch.float32


class _RecordsY(YChannelMethod):
    """Rounds Y like SRCNN's test code and records the Y it is given."""

    info = MethodInfo(name="records-y", family="cnn", summary="records the Y it is given")
    round_y_input = True

    def upscale_y(self, y, scale):
        self.seen = y
        return imresize_matlab(y, scale)


def test_a_one_channel_input_goes_to_upscale_y_as_given_even_when_rgb_y_is_rounded():
    gray = torch.rand(1, 1, 6, 7, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    assert not bool(((gray * 255) == torch.round(gray * 255)).all())  # not on the 8-bit grid
    probe = _RecordsY()
    probe.upscale(gray, 2)
    assert torch.equal(probe.seen, gray)
    # the RGB path does round (the paper's rgb2ycbcr on uint8 pixels)
    probe.upscale(gray.expand(1, 3, 6, 7).contiguous(), 2)
    assert torch.equal(probe.seen * 255, torch.round(probe.seen * 255))


def test_without_round_y_input_the_rgb_y_reaches_upscale_y_unrounded():
    class Unrounded(_RecordsY):
        round_y_input = False

    lr = _lr()[:1]
    probe = Unrounded()
    probe.upscale(lr, 2)
    assert torch.equal(probe.seen, rgb_to_ycbcr_bt601(lr)[:, :1])  # VDSR's test code: double, not uint8


def test_round_y_input_rounds_halves_away_from_zero_as_matlab():
    lr = (torch.tensor([36.0, 149.0, 124.0]) / 255).view(1, 3, 1, 1).expand(1, 3, 2, 2).contiguous()
    assert (rgb_to_ycbcr_bt601(lr)[:, 0] * 255 == 112.5).all()  # an exact tie on the uint8 scale
    probe = _RecordsY()
    probe.upscale(lr, 2)
    assert (torch.round(probe.seen * 255) == 113).all()  # MATLAB round: 112.5 -> 113 (half to even gives 112)
