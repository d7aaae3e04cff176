"""VDSR: a global residual over a plain stack, and bf16 never rounds the image or the residual."""

from __future__ import annotations

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
