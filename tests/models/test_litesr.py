"""LiteSR: re-parameterisation is exact, and bf16 never rounds the image the head reads."""

from __future__ import annotations

import torch

from superres.models.litesr import LiteSR


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
