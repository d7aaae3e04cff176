"""Tiled inference equals untiled inference, within a memory budget.

Reference values: the untiled result of the same method on the same input
(``tile`` larger than the image), computed in the same test.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from superres.errors import InvalidArgumentError, SuperresError
from superres.inference import prepare_method, upscale_array, upscale_tensor
from superres.inference.pipeline import plan_for
from superres.inference.tiling import (
    network_receptive_radius,
    plan_tiles,
    receptive_radius,
    scale_alignment,
)
from superres.methods.learned import LearnedMethod
from superres.methods.registry import METHODS, get_method

UNTILED = 10_000  # a tile side larger than every test image


def _lr(h=37, w=45, c=3, seed=0, uint8=False):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(1, c, h, w, generator=g)
    return torch.round(x * 255) / 255 if uint8 else x


def _registered(name):
    try:
        return get_method(name)
    except SuperresError as exc:  # optional dependency or weights not shipped here
        pytest.skip(f"{name} unavailable: {exc}")


@pytest.mark.parametrize("name", sorted(METHODS))
def test_every_registered_tileable_method_tiled_equals_untiled(name):
    method = _registered(name)
    scales = [s for s in (2.0, 3.0) if method.info.scales is None or s in method.info.scales]
    if not scales:
        scales = [method.info.scales[0]]
    for scale in scales:
        radius = receptive_radius(method, scale)
        if radius is None:  # global method: processed whole, never tiled
            plan = plan_for(method, scale, 40, 40, 3, fixed_bytes=0, tile=8)
            assert plan.count == 1
            continue
        lr = _lr(h=29, w=34)
        m = prepare_method(method, scale, device="cpu")
        whole = upscale_tensor(lr, m, scale, tile=UNTILED)
        tiled = upscale_tensor(lr, m, scale, tile=8)
        if isinstance(m, LearnedMethod):  # convolution backends block differently per size: ~1e-7
            assert (whole - tiled).abs().max() < 1e-5, f"{name} x{scale:g}"
        else:
            assert torch.equal(whole, tiled), f"{name} x{scale:g}: max diff {(whole - tiled).abs().max():.3g}"


@pytest.mark.parametrize("name", ["nearest", "bilinear", "bicubic", "lanczos3"])
@pytest.mark.parametrize("scale", [2.0, 3.0, 4.0, 1.5, 2.5])
def test_interpolation_tiled_equals_untiled_float_and_8bit(name, scale):
    m = prepare_method(name, scale, device="cpu")
    lr = _lr(seed=1)
    assert torch.equal(upscale_tensor(lr, m, scale, tile=UNTILED), upscale_tensor(lr, m, scale, tile=8))
    pixels = (_lr(seed=2, uint8=True)[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    whole = upscale_array(pixels, m, scale, tile=UNTILED).astype(int)
    tiled = upscale_array(pixels, m, scale, tile=8).astype(int)
    if float(scale).is_integer():
        assert np.array_equal(whole, tiled)
    else:
        # MATLAB's uint8 resize rounds between its passes; at a fractional scale some
        # intermediate values are exact .5 ties, and the float64 strided convolution
        # gives 1-ulp different sums for different lengths, so a tie may round either
        # way: at most 1 grey level, on a few pixels (observed: 0.23% for bilinear x2.5,
        # whose 0.5/0.5 weights make many ties).  Float input above is exact.
        diff = np.abs(whole - tiled)
        assert diff.max() <= 1 and (diff > 0).mean() < 1e-2


@pytest.mark.parametrize(
    "kind, scale, any_scale",
    [("srcnn", 3.0, False), ("vdsr", 2.0, False), ("vdsr", 4.0, False), ("vdsr", 2.5, True),
     ("litesr", 2.0, False), ("litesr", 3.0, False), ("litesr", 2.5, True)],
)
def test_learned_tiled_equals_untiled(learned, kind, scale, any_scale):
    method, _ = learned(kind, any_scale=any_scale)
    lr = _lr(h=42, w=38, seed=3)  # x2.5 of an even size gives whole output pixels; the odd case is tested below
    whole = upscale_tensor(lr, method, scale, tile=UNTILED)
    tiled = upscale_tensor(lr, method, scale, tile=8)
    assert whole.shape == tiled.shape
    assert whole.abs().max() > 0.1  # the random network does something
    # The same arithmetic on every kept pixel; only the convolution backend's blocking
    # differs with the tile size (observed: 0 for SRCNN, ~2e-7 for VDSR), not a seam.
    assert (whole - tiled).abs().max() < 1e-5


def test_lr_network_fractional_scale_odd_size_tiled(learned):
    method, _ = learned("litesr", any_scale=True)
    lr = _lr(h=41, w=38, seed=3)
    whole = upscale_tensor(lr, method, 2.5, tile=UNTILED)
    tiled = upscale_tensor(lr, method, 2.5, tile=8)
    assert (whole - tiled).abs().max() < 1e-5


def test_learned_gray_and_8bit_pixels_tiled(learned):
    method, _ = learned("srcnn")
    gray = (np.random.default_rng(0).random((33, 30, 1)) * 255).astype(np.uint8)
    whole = upscale_array(gray, method, 3.0, tile=UNTILED).astype(int)
    tiled = upscale_array(gray, method, 3.0, tile=9).astype(int)
    assert np.abs(whole - tiled).max() <= 1 and (whole != tiled).mean() < 1e-3


def test_receptive_radius_from_the_networks(learned):
    srcnn, _ = learned("srcnn")
    assert network_receptive_radius(srcnn.model_for_scale(3.0)[0]) == 9 // 2 + 5 // 2 + 5 // 2
    assert receptive_radius(srcnn, 3.0) == 3 + 3  # ceil(8 / 3) upscaled pixels -> LR, + bicubic
    vdsr, _ = learned("vdsr")
    assert receptive_radius(vdsr, 2.0) == 3 + 3  # depth 6 -> ceil(6 / 2) + 3
    lite, _ = learned("litesr")
    model = lite.model_for_scale(2.0)[0]
    assert receptive_radius(lite, 2.0) == model.border + 3
    assert receptive_radius(get_method("bicubic"), 4.0) == 2
    assert receptive_radius(get_method("ibp"), 4.0) is None


def test_receptive_radius_estimated_from_the_module_graph():
    plain = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 1, 5, padding=4, dilation=2))
    assert network_receptive_radius(plain) == 1 + 4
    pooled = nn.Sequential(nn.Conv2d(1, 4, 3), nn.AdaptiveAvgPool2d(1))
    assert network_receptive_radius(pooled) is None


def test_plan_aligns_to_the_scale_and_fits_the_budget():
    assert scale_alignment(2.5) == (5, 2)
    assert scale_alignment(3.0) == (3, 1)
    assert scale_alignment(2.123456789012) is None
    plan = plan_tiles(1000, 700, 2.5, radius=7, bytes_per_pixel=1000.0, budget=50e6)
    assert plan.context % 2 == 0 and plan.context >= 7
    assert plan.tile % 2 == 0 and plan.count > 1
    assert plan.working_bytes <= 50e6
    assert all(a % 2 == 0 for a, _ in plan.rows + plan.cols)
    assert plan.rows[-1][1] == 1000 and plan.cols[-1][1] == 700
    with pytest.raises(InvalidArgumentError, match="--max-memory"):
        plan_tiles(1000, 1000, 4.0, radius=10, bytes_per_pixel=1e6, budget=1e6)
    # an irregular scale cannot be tiled exactly: processed whole, if it fits
    whole = plan_tiles(50, 60, 2.123456789012, radius=3, bytes_per_pixel=10.0, budget=1e6)
    assert whole.count == 1


def test_tile_size_comes_from_the_memory_budget(learned):
    method, _ = learned("srcnn")
    pixels = np.zeros((300, 300, 3), np.uint8)
    small = plan_for(method, 3.0, 300, 300, 3, fixed_bytes=0, max_memory=64 << 20)
    large = plan_for(method, 3.0, 300, 300, 3, fixed_bytes=0, max_memory=512 << 20)
    assert small.count > large.count >= 1
    assert small.working_bytes <= 64 << 20
    with pytest.raises(InvalidArgumentError, match="--max-memory"):
        upscale_array(pixels, method, 3.0, max_memory=2 << 20)


def test_only_one_tile_reaches_the_method_at_a_time(learned):
    method, _ = learned("srcnn")
    seen = []
    original = method.upscale

    def spy(lr, scale):
        seen.append(tuple(lr.shape[-2:]))
        return original(lr, scale)

    method.upscale = spy
    pixels = (np.random.default_rng(1).random((120, 100, 3)) * 255).astype(np.uint8)
    ticks = []
    upscale_array(pixels, method, 3.0, tile=32, on_tile=lambda done, total: ticks.append((done, total)))
    assert len(seen) == 4 * 4 and ticks[-1] == (16, 16)
    assert max(h * w for h, w in seen) < 120 * 100 / 2


def test_global_method_runs_whole_and_checks_memory():
    ibp = prepare_method("ibp", 2.0, device="cpu")
    lr = _lr(h=20, w=24)
    out = upscale_tensor(lr, ibp, 2.0, tile=8)
    assert torch.equal(out, ibp.upscale(lr, 2.0).float())
    with pytest.raises(InvalidArgumentError, match="global method"):
        upscale_array(np.zeros((2000, 2000, 3), np.uint8), ibp, 2.0, max_memory=400 << 20)


def test_bf16_runs_close_to_fp32(learned):
    method, _ = learned("vdsr")
    lr = _lr(h=20, w=22)
    fp32 = upscale_tensor(lr, method, 2.0)
    method.precision = "bf16"
    bf16 = upscale_tensor(lr, method, 2.0)
    assert bf16.dtype == torch.float32
    assert (fp32 - bf16).abs().max() < 0.05


def test_16bit_and_float_images_are_never_squeezed_to_8_bits(learned):
    from superres.inference.tiling import with_uint8_mode

    method, _ = learned("srcnn")
    method.round_y_input = True  # SRCNN's protocol: Y rounded to 8 bits before the network
    wide = with_uint8_mode(method, False)
    assert wide.round_y_input is False and method.round_y_input is True
    assert with_uint8_mode(method, True) is method
    bicubic = get_method("bicubic")
    assert with_uint8_mode(bicubic, False).as_uint8 is False and bicubic.as_uint8 is True
    pixels = (np.random.default_rng(2).random((12, 14, 3)) * 65535).astype(np.uint16)
    out = upscale_array(pixels, method, 3.0)
    from superres.io import image_to_tensor, tensor_to_image

    expect = tensor_to_image(wide.upscale(image_to_tensor(pixels), 3.0), bit_depth=16)
    assert out.dtype == np.uint16 and np.array_equal(out, expect)


@pytest.mark.parametrize("scale", [2.0, 4.0])
def test_default_model_in_bf16_tiled_equals_untiled(scale):
    """What `superres upscale` runs on a bf16 CPU (the default model, bf16) is tiled exactly."""
    m = prepare_method("default", scale, device="cpu", precision="bf16")
    lr = _lr(h=61, w=77)
    whole = upscale_tensor(lr, m, scale, tile=UNTILED)
    tiled = upscale_tensor(lr, m, scale, tile=16)
    assert m.precision == "bf16"
    assert (whole - tiled).abs().max() < 1e-5
