"""LiteSR: re-parameterisation is exact, and bf16 never rounds the image the head reads."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from superres.models.layers import MatlabBicubicUpsample, RepConv3x3
from superres.models.litesr import LiteSR
from superres.ops.resize import imresize_matlab


def _trained_like(scales=(2, 3)) -> LiteSR:
    torch.manual_seed(0)
    model = LiteSR(scales=scales, channels=8, blocks=2)
    with torch.no_grad():
        for tail in model.tails.values():  # tails start at zero (plain bicubic): give them weights
            tail.weight.normal_(0, 0.05)
    return model.eval()


def test_fused_model_gives_the_same_output():
    model = _trained_like()
    x = torch.rand(2, 1, 17, 23)
    with torch.no_grad():
        before = {s: model(x, s) for s in (2, 3)}
        model.fuse()
        for s in (2, 3):
            torch.testing.assert_close(model(x, s), before[s], rtol=0, atol=1e-5)
            assert model(x, s).shape == (2, 1, 17 * s, 23 * s)


def test_head_reads_the_image_in_fp32_under_bf16_autocast():
    model = _trained_like().fuse()
    seen = {}
    model.head.register_forward_hook(lambda _m, inputs, output: seen.update(inp=inputs[0].dtype, out=output.dtype))
    x = torch.rand(1, 1, 16, 16)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        out = model(x, 2)
    assert seen == {"inp": torch.float32, "out": torch.float32}
    assert out.dtype == torch.float32
    # the blocks' convolutions still run in bf16: the skip connections carry fp32 features
    conv = model.body[0].conv1
    conv_dtype = {}
    conv.register_forward_hook(lambda _m, _i, output: conv_dtype.update(out=output.dtype))
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        model(x, 2)
    assert conv_dtype["out"] == torch.bfloat16


def _repconv_reference(x: torch.Tensor, rep) -> torch.Tensor:
    """A re-parameterisable 3x3: its 3x3 branch + its 1x1 branch + the input (same width)."""
    out = F.conv2d(x, rep.conv3.weight, rep.conv3.bias, padding=1) + F.conv2d(x, rep.conv1.weight, rep.conv1.bias)
    return out + x if rep.conv3.in_channels == rep.conv3.out_channels else out


def _litesr_reference(model: LiteSR, x: torch.Tensor, scale: int) -> torch.Tensor:
    """LiteSR written out from its parameters: head, residual blocks (rep conv, ReLU, rep conv),
    the scale's tail, pixel shuffle, plus the MATLAB bicubic upscale of the input."""
    feat = F.conv2d(x, model.head.weight, model.head.bias, padding=1)
    for block in model.body:
        feat = feat + _repconv_reference(F.relu(_repconv_reference(feat, block.conv1)), block.conv2)
    tail = model.tails[str(scale)]
    residual = F.pixel_shuffle(F.conv2d(feat, tail.weight, tail.bias, padding=1), scale)
    return imresize_matlab(x, float(scale)) + residual


def test_forward_equals_the_architecture_written_out():
    model = _trained_like(scales=(2, 3, 4))
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.1)
        x = torch.rand(2, 1, 11, 14)
        for s in (2, 3, 4):
            torch.testing.assert_close(model(x, s), _litesr_reference(model, x, s), rtol=0, atol=1e-5)


def test_untrained_model_is_exactly_matlab_bicubic():
    torch.manual_seed(0)
    model = LiteSR(scales=(2, 3, 4), channels=8, blocks=2).eval()
    x = torch.rand(1, 1, 9, 13)
    with torch.no_grad():
        for s in (2, 3, 4):
            torch.testing.assert_close(model(x, s), imresize_matlab(x, float(s)), rtol=0, atol=1e-5)


@pytest.mark.parametrize("scale", [2, 3, 4])
@pytest.mark.parametrize("shape", [(1, 1, 10, 7), (2, 3, 3, 5), (1, 1, 1, 4)])
def test_bicubic_layer_equals_imresize_matlab_including_the_borders(scale, shape):
    x = torch.rand(*shape, dtype=torch.float64)
    layer = MatlabBicubicUpsample(scale).double()  # its taps are stored in float32
    torch.testing.assert_close(layer(x), imresize_matlab(x, float(scale)), rtol=0, atol=1e-6)


def test_repconv_with_different_widths_fuses_exactly():
    torch.manual_seed(0)
    rep = RepConv3x3(4, 6)
    x = torch.rand(2, 4, 9, 8)
    with torch.no_grad():
        before = rep(x)
        torch.testing.assert_close(before, _repconv_reference(x, rep), rtol=0, atol=1e-6)
        rep.fuse()
        torch.testing.assert_close(rep(x), before, rtol=0, atol=1e-5)
    assert sorted(name for name, _ in rep.named_parameters()) == ["fused.bias", "fused.weight"]


def test_border_covers_the_receptive_field():
    """A change to one LR pixel moves only HR pixels within ``border`` LR pixels of it."""
    for blocks in (1, 3):
        model = LiteSR(scales=(2, 3), channels=8, blocks=blocks).eval()
        with torch.no_grad():
            for p in model.parameters():
                p.normal_(0, 0.1)
            x = torch.rand(1, 1, 41, 41)
            poked = x.clone()
            poked[0, 0, 20, 20] += 1
            for s in (2, 3):
                changed = torch.nonzero((model(poked, s) - model(x, s))[0, 0].abs() > 0)
                reach = ((changed.double() + 0.5) / s - 0.5 - 20).abs().max().item()
                assert 2 * blocks + 2 <= reach <= model.border


def _litesr_method(model: LiteSR):
    from superres.methods.base import MethodInfo
    from superres.methods.learned import LearnedMethod

    info = MethodInfo(name="litesr-test", family="cnn", summary="random test network")
    return LearnedMethod.from_model(info, model, {"scales": list(model.scales), "input": "lr"}, any_scale=True)


def test_method_runs_the_scales_tail_and_resizes_fractional_factors_from_the_next_one():
    from superres.ops.color import rgb_to_ycbcr_bt601, ycbcr_bt601_to_rgb

    model = _trained_like(scales=(2, 3, 4))
    method = _litesr_method(model)
    y = torch.rand(1, 1, 9, 7, dtype=torch.float64)
    with torch.no_grad():
        for scale, tail in ((2.0, 2), (3.0, 3), (4.0, 4), (2.5, 3), (3.5, 4), (1.5, 2), (5.0, 4)):
            net = model(y.float(), tail).double()
            want = net if scale == tail else imresize_matlab(net, scale / tail)
            torch.testing.assert_close(method.upscale(y, scale), want, rtol=0, atol=1e-6)
        # colour: Y through the network, Cb/Cr by MATLAB bicubic
        rgb = torch.rand(1, 3, 9, 7, dtype=torch.float64)
        ycbcr = rgb_to_ycbcr_bt601(rgb)
        sr_y = imresize_matlab(model(ycbcr[:, :1].float(), 3).double(), 2.5 / 3)
        want = ycbcr_bt601_to_rgb(torch.cat([sr_y, imresize_matlab(ycbcr[:, 1:], 2.5)], dim=1))
        torch.testing.assert_close(method.upscale(rgb, 2.5), want, rtol=0, atol=1e-6)


def test_any_scale_method_takes_the_weights_of_the_next_trained_scale():
    from superres.errors import InvalidArgumentError
    from superres.methods.base import MethodInfo
    from superres.methods.learned import LearnedMethod

    info = MethodInfo(name="t", family="cnn", summary="weights table")
    table = {2.0: "w2", 3.0: "w3", 4.0: "w4"}
    method = LearnedMethod(info, table, any_scale=True)
    picks = {s: method.weights_for_scale(s) for s in (1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 6.0)}
    assert picks == {1.5: "w2", 2.0: "w2", 2.5: "w3", 3.0: "w3", 3.5: "w4", 4.0: "w4", 6.0: "w4"}
    with pytest.raises(InvalidArgumentError, match="no weights"):
        LearnedMethod(info, table).weights_for_scale(2.5)
