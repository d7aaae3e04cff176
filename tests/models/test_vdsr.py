"""VDSR: a global residual over a plain stack, and bf16 never rounds the image or the residual."""

from __future__ import annotations

import math

import torch

from superres.models.vdsr import VDSR


def test_output_is_input_plus_the_stack_in_fp32():
    torch.manual_seed(0)
    model = VDSR(depth=5, width=8).eval()
    x = torch.rand(2, 1, 13, 17)
    with torch.no_grad():
        torch.testing.assert_close(model(x), x + model.body(x), rtol=0, atol=0)
        model.residual = False
        torch.testing.assert_close(model(x), model.body(x), rtol=0, atol=0)


def _conv_dtypes_under_bf16(model: VDSR) -> dict[str, tuple[torch.dtype, torch.dtype]]:
    dtypes: dict[str, tuple[torch.dtype, torch.dtype]] = {}
    for name, index in (("first", 0), ("middle", 2), ("last", len(model.body) - 1)):
        model.body[index].register_forward_hook(
            lambda _m, inputs, output, name=name: dtypes.update({name: (inputs[0].dtype, output.dtype)})
        )
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        model(torch.rand(1, 1, 16, 16))
    return dtypes


def test_first_and_last_convolutions_stay_fp32_under_bf16_autocast():
    torch.manual_seed(0)
    model = VDSR(depth=5, width=8).eval()
    dtypes = _conv_dtypes_under_bf16(model)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        out = model(torch.rand(1, 1, 16, 16))
    assert dtypes["first"] == (torch.float32, torch.float32)
    assert dtypes["middle"][1] == torch.bfloat16  # the 64 -> 64 convolutions still run in bf16
    assert dtypes["last"] == (torch.float32, torch.float32)
    assert out.dtype == torch.float32


def test_fp32_ends_off_rounds_every_convolution_and_changes_nothing_in_fp32():
    torch.manual_seed(0)
    model = VDSR(depth=5, width=8).eval()
    plain = VDSR(depth=5, width=8, fp32_ends=False).eval()
    plain.load_state_dict(model.state_dict())
    x = torch.rand(2, 1, 13, 17)
    with torch.no_grad():
        torch.testing.assert_close(plain(x), model(x), rtol=0, atol=0)
    dtypes = _conv_dtypes_under_bf16(plain)
    assert dtypes["first"][1] == dtypes["middle"][1] == dtypes["last"][1] == torch.bfloat16


def _vdsr_reference(model: VDSR, x: torch.Tensor) -> torch.Tensor:
    """VDSR written out: zero-padded 3x3 convolutions, ReLU after all but the last, plus the input."""
    convs = [m for m in model.body if isinstance(m, torch.nn.Conv2d)]
    h = x
    for k, conv in enumerate(convs):
        h = torch.nn.functional.conv2d(h, conv.weight, conv.bias, padding=1)
        if k < len(convs) - 1:
            h = torch.relu(h)
    return x + h


def test_forward_equals_depth_convolutions_written_out():
    torch.manual_seed(0)
    model = VDSR(depth=6, width=8).eval()
    assert sum(isinstance(m, torch.nn.Conv2d) for m in model.modules()) == 6
    assert sum(isinstance(m, torch.nn.ReLU) for m in model.modules()) == 5
    with torch.no_grad():
        x = torch.rand(2, 1, 12, 9)
        assert (model(x) - x).min() < 0  # a ReLU after the last convolution would show
        torch.testing.assert_close(model(x), _vdsr_reference(model, x), rtol=0, atol=1e-6)


def test_border_is_the_receptive_radius():
    torch.manual_seed(0)
    for depth in (3, 6):
        model = VDSR(depth=depth, width=8).eval()
        x = torch.rand(1, 1, 31, 31)
        poked = x.clone()
        poked[0, 0, 15, 15] += 1
        with torch.no_grad():
            changed = torch.nonzero((model(poked) - model(x))[0, 0].abs() > 0)
        assert (changed - 15).abs().max().item() == model.border == depth


def test_shipped_vdsr_serves_fractional_scales_on_the_bicubic_input():
    from superres.methods.registry import get_method
    from superres.ops.resize import imresize_matlab

    method = get_method("vdsr")
    y = torch.rand(1, 1, 9, 11, generator=torch.Generator().manual_seed(0))
    for scale in (2.0, 2.5):
        model, _ = method.model_for_scale(scale)
        with torch.no_grad():
            want = model(imresize_matlab(y, scale))
        got = method.upscale(y, scale)
        assert got.shape[-2:] == (math.ceil(9 * scale), math.ceil(11 * scale))
        torch.testing.assert_close(got, want, rtol=0, atol=1e-5)
