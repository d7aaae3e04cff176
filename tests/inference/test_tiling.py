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
    BICUBIC_CONTEXT,
    TILE_WORKING_CAP,
    network_receptive_radius,
    plan_tiles,
    receptive_radius,
    scale_alignment,
    working_bytes_per_lr_pixel,
)
from superres.methods.base import MethodInfo
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
    whole = upscale_array(pixels, m, scale, tile=UNTILED)
    tiled = upscale_array(pixels, m, scale, tile=8)
    # exact at fractional scales too, where MATLAB's uint8 resize meets exact .5 ties
    # between its passes: a tile's phases share the image's weights, summed unfused
    assert np.array_equal(whole, tiled)


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
    method, _ = learned("srcnn", std=0.03)  # weights small enough that 8 bits show a seam
    gray = (np.random.default_rng(0).random((33, 30, 1)) * 255).astype(np.uint8)
    whole = upscale_array(gray, method, 3.0, tile=UNTILED)
    tiled = upscale_array(gray, method, 3.0, tile=9)
    assert ((whole == 0) | (whole == 255)).mean() < 0.01
    assert np.array_equal(whole, tiled)


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


def test_without_a_budget_the_machine_default_sets_the_tiles(learned, monkeypatch):
    # None means the machine's default (half its RAM, capped), not "no limit"
    method, _ = learned("srcnn")
    monkeypatch.setattr("superres.inference.pipeline.default_max_memory", lambda: 64 << 20)
    default = plan_for(method, 3.0, 300, 300, 3, fixed_bytes=0)
    assert default == plan_for(method, 3.0, 300, 300, 3, fixed_bytes=0, max_memory=64 << 20)
    assert default.count > plan_for(method, 3.0, 300, 300, 3, fixed_bytes=0, max_memory=512 << 20).count


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


# --------------------------------------------------------------------------
# Alpha, memory plans and thin images


def _pixels(h, w, c, dtype=np.uint8, seed=0):
    top = 255 if dtype == np.uint8 else 65535
    return np.random.default_rng(seed).integers(0, top + 1, (h, w, c)).astype(dtype)


@pytest.mark.parametrize("scale", [2.0, 3.0])
@pytest.mark.parametrize("name", ["nearest", "bilinear"])
def test_8bit_alpha_is_matlab_bicubic_and_tiled_exactly(name, scale):
    """LA/RGBA: the colour goes through the method, the alpha through MATLAB uint8 bicubic,
    whatever the method's kernel, with bicubic's context even where the method needs less
    (nearest: none), so every tile size gives the untiled result."""
    from superres.ops.resize import imresize_matlab

    m = prepare_method(name, scale, device="cpu")
    for c in (2, 4):
        pixels = _pixels(29, 34, c, seed=c)
        whole = upscale_array(pixels, m, scale, tile=UNTILED)
        for tile in (4, 8, 13):
            assert np.array_equal(upscale_array(pixels, m, scale, tile=tile), whole), (c, tile)
        colour = upscale_array(np.ascontiguousarray(pixels[:, :, : c - 1]), m, scale, tile=UNTILED)
        assert np.array_equal(whole[:, :, : c - 1], colour)
        alpha = imresize_matlab(torch.from_numpy(pixels[None, None, :, :, -1].copy()), scale, kernel="bicubic")
        assert np.array_equal(whole[:, :, -1], alpha[0, 0].numpy())


@pytest.mark.parametrize("scale", [2.0, 2.5])
def test_float_and_16bit_alpha_are_resized_in_float(scale):
    """A mask alpha (0 and 1 only) of a float or 16-bit image looks 8-bit: it is still resized
    in float (no rounding between the passes), tile by tile as untiled."""
    from superres.io import tensor_to_image
    from superres.ops.resize import imresize_matlab

    m = prepare_method("nearest", scale, device="cpu")
    lr = _lr(h=26, w=30, c=4, seed=5)
    lr[:, 3] = (lr[:, 3] > 0.5).float()
    alpha = imresize_matlab(lr[:, 3:], scale, kernel="bicubic")
    whole = upscale_tensor(lr, m, scale, tile=UNTILED)
    assert torch.equal(whole[:, 3:], alpha)
    for tile in (4, 8):
        assert torch.equal(upscale_tensor(lr, m, scale, tile=tile), whole)

    pixels = _pixels(26, 30, 4, np.uint16, seed=6)
    pixels[:, :, 3] = np.where(pixels[:, :, 3] > 32767, 65535, 0)
    expect = tensor_to_image(imresize_matlab(torch.from_numpy(pixels[None, None, :, :, 3] / 65535).float(), scale,
                                             kernel="bicubic"), bit_depth=16)[:, :, 0]
    out = upscale_array(pixels, m, scale, tile=UNTILED)
    assert np.array_equal(out[:, :, 3], expect)
    assert np.any(out[:, :, 3] % 257 != 0)  # real 16-bit values at the edges of the mask
    assert np.array_equal(upscale_array(pixels, m, scale, tile=8), out)


def _crop_areas(plan):
    c = plan.context
    return [(min(b + c, plan.height) - max(a - c, 0)) * (min(d + c, plan.width) - max(x - c, 0))
            for a, b in plan.rows for x, d in plan.cols]


def test_the_tiles_and_the_image_together_fit_the_memory_budget():
    """The plan's working set covers the largest crop actually run, and with the input,
    the output and the writer's copies of it stays within ``max_memory``."""
    from superres.inference.pipeline import OUTPUT_COPIES

    m = prepare_method("bicubic", 3.0, device="cpu")
    pixels = np.zeros((300, 260, 3), np.uint8)
    for budget in (8 << 20, 12 << 20):
        plans = []
        out = upscale_array(pixels, m, 3.0, max_memory=budget, on_plan=plans.append)
        (plan,) = plans
        assert plan.count > 1
        per_pixel = working_bytes_per_lr_pixel(m, 3.0, 3)
        assert plan.working_bytes >= per_pixel * max(_crop_areas(plan))
        assert pixels.nbytes + out.nbytes * (1 + OUTPUT_COPIES) + plan.working_bytes <= budget
        # the largest aligned tile that fits: one step more would not
        bigger = per_pixel * (plan.tile + plan.q + 2 * plan.context) ** 2
        assert pixels.nbytes + out.nbytes * (1 + OUTPUT_COPIES) + bigger > budget


def test_a_thin_image_is_tiled_along_its_long_side():
    plan = plan_tiles(20, 400, 2.0, radius=2, bytes_per_pixel=100.0, budget=1e9, tile=16)
    assert plan.rows == ((0, 16), (16, 20))
    assert plan.cols == tuple((a, min(a + 16, 400)) for a in range(0, 400, 16))
    assert plan.working_bytes == 100.0 * 20 * (16 + 2 * 2)
    # chosen from the budget: room for 40 x 40 crops, so tiles of 36 along the 1000 columns
    budget_plan = plan_tiles(12, 1000, 2.0, radius=2, bytes_per_pixel=1.0, budget=40 * 40)
    assert budget_plan.tile == 36 and budget_plan.count == 28 and len(budget_plan.rows) == 1
    assert budget_plan.working_bytes <= 40 * 40
    # a thin image the smallest tile (16) does not fit: refused, not run whole
    with pytest.raises(InvalidArgumentError, match="--max-memory"):
        plan_tiles(10, 1000, 2.0, radius=2, bytes_per_pixel=1.0, budget=16 * 16)
    # ... unless one tile holds it all
    assert plan_tiles(10, 12, 2.0, radius=2, bytes_per_pixel=1.0, budget=16 * 16).count == 1


def test_tiled_run_hands_the_sink_every_output_pixel_once():
    """run_tiled's offsets: with an identity-like process (nearest x3), the sink receives
    disjoint tiles that cover the output exactly."""
    from superres.inference.tiling import TensorSource, run_tiled

    lr = _lr(h=23, w=31, seed=9)
    plan = plan_tiles(23, 31, 3.0, radius=1, bytes_per_pixel=1.0, budget=1e9, tile=8)
    count = torch.zeros(1, 1, 69, 93)
    got = torch.full((1, 3, 69, 93), float("nan"))

    def sink(y0, x0, tile):
        h, w = tile.shape[-2:]
        count[..., y0 : y0 + h, x0 : x0 + w] += 1
        got[..., y0 : y0 + h, x0 : x0 + w] = tile

    run_tiled(lambda crop: crop.repeat_interleave(3, -2).repeat_interleave(3, -1), TensorSource(lr), plan, sink)
    assert bool((count == 1).all())
    assert torch.equal(got, lr.repeat_interleave(3, -2).repeat_interleave(3, -1))


class _StridedNet(nn.Module):
    """An encoder-decoder as a plugin architecture might be, stating no radius: a stride-2
    convolution, a chain at half resolution, a transposed convolution back."""

    def __init__(self) -> None:
        super().__init__()
        self.down = nn.Conv2d(1, 8, 3, stride=2, padding=1)
        self.mid = nn.Sequential(*[nn.Conv2d(8, 8, 3, padding=1) for _ in range(6)])
        self.up = nn.ConvTranspose2d(8, 1, 2, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.up(torch.relu(self.mid(torch.relu(self.down(x)))))
        return x + y[..., : x.shape[-2], : x.shape[-1]]


def test_a_network_that_strides_runs_whole_unless_it_states_its_radius():
    # Summing kernel radii ignores that a layer after a stride reaches twice as far, and a
    # tile's start would change the sampling phase: tiles gave seams of 37 grey levels.
    assert network_receptive_radius(nn.Sequential(nn.Conv2d(1, 4, 3, stride=2), nn.Conv2d(4, 1, 3))) is None
    assert network_receptive_radius(nn.Sequential(nn.Conv2d(1, 4, 3), nn.MaxPool2d(2))) is None  # stride = kernel
    assert network_receptive_radius(nn.Sequential(nn.Conv2d(1, 4, 3), nn.Upsample(scale_factor=2))) is None
    assert network_receptive_radius(nn.Sequential(nn.Conv2d(1, 4, 3), nn.ConvTranspose2d(4, 1, 3, padding=1))) is None
    torch.manual_seed(0)
    net = _StridedNet().eval()
    method = LearnedMethod.from_model(MethodInfo(name="plugin-net", family="cnn", summary="strided"), net,
                                      {"scales": [2, 3], "input": "upsampled"})
    lr = _lr(40, 44, c=1)
    for scale in (2.0, 3.0):
        whole = upscale_tensor(lr, method, scale, tile=UNTILED)
        assert torch.equal(upscale_tensor(lr, method, scale, tile=8), whole)
    net.receptive_radius = 40  # stated by the model: then it is tiled, with that context
    assert receptive_radius(method, 2.0) == 40 // 2 + BICUBIC_CONTEXT


def test_receptive_radius_counts_pooling_layers():
    net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.MaxPool2d(5, stride=1, padding=2),
                        nn.AvgPool2d((3, 3), stride=1, padding=1), nn.Conv2d(4, 1, 1))
    assert network_receptive_radius(net) == 1 + 2 + 1 + 0


def test_the_working_cap_sizes_tiles_but_never_refuses_what_the_budget_holds():
    # The cap chooses the tile when it allows the smallest one...
    capped = plan_tiles(1000, 1000, 2.0, radius=2, bytes_per_pixel=1.0, budget=1e6, working_cap=40 * 40)
    assert capped.tile == 36
    # ... and gives way to the budget when it does not (a large scale's smallest tile)
    over = plan_tiles(1000, 1000, 2.0, radius=2, bytes_per_pixel=1.0, budget=1e6, working_cap=10 * 10)
    assert over.tile == 996 and over.working_bytes <= 1e6
    # a global method may use the whole budget, whatever the cap
    whole = plan_tiles(100, 100, 2.0, radius=None, bytes_per_pixel=50.0, budget=1e6, working_cap=10)
    assert whole.count == 1 and whole.working_bytes == 5e5
    with pytest.raises(InvalidArgumentError, match="--max-memory, or max_memory"):
        plan_tiles(100, 100, 2.0, radius=None, bytes_per_pixel=200.0, budget=1e6, working_cap=10)


def test_a_scale_of_large_denominator_runs_a_small_image_whole():
    # 1.3333 is 13333/10000: tiles would align to 10000 pixels and their context grow to
    # 10000 on each side, which no budget holds; a small image fits whole and needs no tiles.
    assert scale_alignment(1.3333) == (13333, 10000)
    for h, w in [(1, 1), (90, 70)]:
        plan = plan_tiles(h, w, 1.3333, radius=8, bytes_per_pixel=3000.0, budget=1e9, working_cap=1e7)
        assert plan.count == 1 and plan.working_bytes == 3000.0 * h * w
    with pytest.raises(InvalidArgumentError, match="--max-memory"):
        plan_tiles(300, 300, 1.3333, radius=8, bytes_per_pixel=3000.0, budget=1e8)
    image = (np.random.default_rng(0).random((30, 20, 3)) * 255).astype(np.uint8)
    out = upscale_array(image, get_method("bicubic"), 1.3333)
    assert out.shape == (40, 27, 3)


def test_a_global_method_above_the_tile_cap_runs_within_a_larger_budget():
    # ibp on 1000 x 1000 needs more than TILE_WORKING_CAP: accepted once --max-memory holds it
    # (the cap used to refuse it whatever the budget), refused when the budget is short.
    method = get_method("ibp")
    need = working_bytes_per_lr_pixel(method, 2.0, 3) * 1000 * 1000
    assert need > TILE_WORKING_CAP
    plan = plan_for(method, 2.0, 1000, 1000, 3, fixed_bytes=0, max_memory=int(need) + (1 << 20))
    assert plan.count == 1
    with pytest.raises(InvalidArgumentError, match="global method"):
        plan_for(method, 2.0, 1000, 1000, 3, fixed_bytes=0, max_memory=int(need) - (1 << 20))


def test_plan_for_sizes_tiles_by_the_working_cap_when_the_budget_is_larger():
    # 8000 x 8000 at x2 with bicubic needs about 40 GB untiled: a 64 GiB budget would hold it,
    # but the tiles stay within TILE_WORKING_CAP (bigger tiles are no faster)
    plan = plan_for(get_method("bicubic"), 2.0, 8000, 8000, 3, fixed_bytes=0, max_memory=64 << 30)
    assert plan.count > 1 and plan.working_bytes <= TILE_WORKING_CAP


def test_receptive_radius_of_even_and_non_square_kernels():
    # a plugin network's context for tiles: even and (1, k) kernels, pooling
    assert network_receptive_radius(nn.Sequential(nn.Conv2d(1, 1, 2, padding=1))) == 1
    assert network_receptive_radius(nn.Sequential(nn.Conv2d(1, 1, (1, 5), padding=(0, 2)))) == 2
    assert network_receptive_radius(nn.Sequential(nn.Conv2d(1, 1, 1), nn.MaxPool2d((1, 5), stride=1, padding=(0, 2)))) == 2


def test_working_bytes_of_a_wide_thin_image():
    # a tile is no taller than the image: the estimate counts the tile's real rows and columns
    plan = plan_tiles(10, 400, 2.0, radius=2, bytes_per_pixel=1.0, budget=1e9, tile=16)
    assert plan.working_bytes == 10 * (16 + 2 * 2)


def test_forced_tile_is_rounded_up_to_the_alignment():
    # a forced tile size is rounded up to the factor's alignment (5 LR pixels at x2.5), as documented
    assert plan_tiles(100, 100, 2.5, radius=2, bytes_per_pixel=1.0, budget=1e9, tile=9).tile == 10
