"""``superres.upscale``/``load_model``/``list_models``: same kind out as in, same pixels as the CLI."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

import superres
from superres.errors import InvalidArgumentError, UnknownNameError
from superres.io import read_image, write_image
from superres.ops.resize import imresize_matlab


def _pixels(h=14, w=17, c=3, dtype=np.uint8, seed=0):
    top = 255 if dtype == np.uint8 else 65535
    return (np.random.default_rng(seed).random((h, w, c)) * top).astype(dtype)


def test_import_superres_does_not_import_torch():
    code = "import sys, superres; assert 'torch' not in sys.modules; print(callable(superres.upscale))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "True"


def test_numpy_in_numpy_out():
    rgb = _pixels()
    out = superres.upscale(rgb, 2, model="bicubic")
    assert out.shape == (28, 34, 3) and out.dtype == np.uint8
    gray = superres.upscale(_pixels(c=1)[:, :, 0], 3)
    assert gray.shape == (42, 51) and gray.dtype == np.uint8
    wide = superres.upscale(_pixels(c=4, dtype=np.uint16), 2.5)
    assert wide.shape == (35, 43, 4) and wide.dtype == np.uint16
    flt = superres.upscale(rgb.astype(np.float32) / 255, 2, model="bicubic")
    assert flt.dtype == np.float32
    # float in, float arithmetic: no rounding between the passes, no clipping (bicubic overshoots),
    # even though every value here is a multiple of 1/255
    chw = torch.from_numpy(rgb.astype(np.float32) / 255).permute(2, 0, 1)[None]
    np.testing.assert_allclose(flt, imresize_matlab(chw, 2)[0].permute(1, 2, 0).numpy(), atol=1e-6)
    assert flt.min() < 0 or flt.max() > 1


def test_tensor_in_tensor_out():
    x = torch.rand(2, 3, 10, 12)
    out = superres.upscale(x, 2)
    assert out.shape == (2, 3, 20, 24) and out.dtype == torch.float32
    one = superres.upscale(x[1], 2)
    assert one.shape == (3, 20, 24) and torch.equal(one, out[1])
    u8_in = (x * 255).round().to(torch.uint8)
    u8 = superres.upscale(u8_in, 2)
    assert u8.dtype == torch.uint8 and u8.shape == (2, 3, 20, 24)
    # uint8 out is the float result rounded (half up) and saturated, not truncated
    as_float = superres.upscale(u8_in.float() / 255, 2).double()
    assert torch.equal(u8, torch.floor(as_float.clamp(0, 1) * 255 + 0.5).to(torch.uint8))


@pytest.mark.parametrize("mode, expect", [("L", "L"), ("LA", "LA"), ("RGB", "RGB"), ("RGBA", "RGBA"), ("P", "RGB"),
                                          ("1", "L"), ("CMYK", "RGB")])
def test_pil_in_pil_out(mode, expect):
    im = Image.fromarray(_pixels(c=4) if mode in ("LA", "RGBA") else _pixels(c=3)).convert(mode)
    im.info["icc_profile"] = b"profile"
    out = superres.upscale(im, 2)
    assert isinstance(out, Image.Image) and out.mode == expect and out.size == (34, 28)
    assert out.info.get("icc_profile") == b"profile"


@pytest.mark.parametrize("c, mode", [(3, "RGB"), (4, "RGBA"), (1, "L")])
def test_pil_result_has_the_pixels_of_the_array_result(c, mode):
    pixels = _pixels(c=c)
    im = Image.fromarray(pixels[:, :, 0] if c == 1 else pixels, mode)
    assert np.array_equal(np.asarray(superres.upscale(im, 2)), superres.upscale(pixels[:, :, 0] if c == 1 else pixels, 2))


def test_pil_palette_with_transparency_becomes_rgba():
    im = Image.fromarray(_pixels(c=3)).quantize(8)
    im.info["transparency"] = 0
    assert superres.upscale(im, 2).mode == "RGBA"


def test_pil_16bit_gray():
    im = Image.fromarray(_pixels(c=1, dtype=np.uint16)[:, :, 0])
    assert im.mode == "I;16"
    out = superres.upscale(im, 2)
    assert out.mode == "I;16" and out.size == (34, 28)
    assert np.any(np.asarray(out).astype(np.int64) % 257 != 0)


def test_path_in_path_out_equals_the_array_result(tmp_path):
    src = tmp_path / "a.png"
    write_image(src, _pixels())
    out = superres.upscale(src, 2, output=tmp_path / "b.png")
    assert out == tmp_path / "b.png"
    assert np.array_equal(read_image(out).pixels, superres.upscale(_pixels(), 2))
    with pytest.raises(InvalidArgumentError, match="exists"):
        superres.upscale(src, 2, output=out)
    # Without output=, beside the input and named by the scale, as `superres upscale` does.
    beside = superres.upscale(str(src), 2.5)
    assert beside == tmp_path / "a_x2.5.png"
    assert np.array_equal(read_image(beside).pixels, superres.upscale(_pixels(), 2.5))
    with pytest.raises(InvalidArgumentError, match="exists"):
        superres.upscale(str(src), 2.5)


def test_errors_are_superres_errors():
    with pytest.raises(UnknownNameError):
        superres.upscale(_pixels(), 2, model="no-such-model")
    with pytest.raises(InvalidArgumentError):
        superres.upscale(_pixels(), 0.5)
    with pytest.raises(InvalidArgumentError):
        superres.upscale([[1, 2], [3, 4]], 2)
    with pytest.raises(InvalidArgumentError, match="scale"):
        superres.load_model("default")
    with pytest.raises(InvalidArgumentError, match="scale"):
        superres.load_model("bicubic", scale="x")
    with pytest.raises(InvalidArgumentError, match="string"):
        superres.load_model(None)
    with pytest.raises(InvalidArgumentError, match="scale"):
        superres.upscale(_pixels(), True, model="bicubic")
    # x1 would change nothing (or, through a network trained for x2..x4, change pixels for nothing)
    for one in (1, 1.0):
        with pytest.raises(InvalidArgumentError, match="above 1"):
            superres.upscale(_pixels(), one)
        with pytest.raises(InvalidArgumentError, match="above 1"):
            superres.load_model("bicubic").upscale(torch.rand(1, 3, 8, 8), one)
    assert superres.upscale(_pixels(), 64, model="nearest").shape[0] == 64 * _pixels().shape[0]
    with pytest.raises(InvalidArgumentError, match="at most 64"):
        superres.upscale(_pixels(), 64.5, model="nearest")
    # empty images: one clear error, whatever the kind of input
    for empty in (np.zeros((0, 5, 3), np.uint8), np.zeros((4, 0), np.float32), torch.zeros(1, 3, 0, 4),
                  Image.new("RGB", (0, 0))):
        with pytest.raises(InvalidArgumentError, match="empty"):
            superres.upscale(empty, 2, model="bicubic")
    with pytest.raises(InvalidArgumentError, match="empty"):
        superres.load_model("bicubic").upscale(torch.rand(2, 3, 0, 9), 2)


def test_path_form_never_writes_over_its_input(tmp_path):
    from superres.errors import ImageReadError, ImageWriteError

    source = tmp_path / "in.png"
    write_image(source, _pixels())
    before = source.read_bytes()
    for target in (source, tmp_path / "." / "in.png"):
        with pytest.raises(ImageWriteError, match="would replace the input"):
            superres.upscale(source, 2, model="bicubic", output=target, overwrite=True)
    assert source.read_bytes() == before
    for bad in ("", tmp_path):
        with pytest.raises(ImageReadError, match="not an image file"):
            superres.upscale(bad, 2, model="bicubic")


def test_load_model_and_list_models(learned):
    names = [info.name for info in superres.list_models()]
    assert "bicubic" in names and "ibp" in names
    method = superres.load_model("default", scale=4)
    from superres.weights.defaults import default_method_for_scale

    assert method.info.name == default_method_for_scale(4)
    bicubic = superres.load_model("bicubic")
    lr = torch.rand(1, 3, 8, 9)
    assert bicubic.upscale(lr, 2).shape == (1, 3, 16, 18)
    # an SRMethod instance is accepted as the model
    srcnn, _ = learned("srcnn")
    assert superres.upscale(lr, 3, model=srcnn).shape == (1, 3, 24, 27)


@pytest.mark.parametrize("output, message", [
    ("missing/out.png", "does not exist"),
    ("out.xyz", "unknown image extension"),
    ("folder.png", "is a directory"),
    ("taken.png", "exists \\(pass overwrite=True\\)"),
])
def test_a_path_upscale_checks_its_output_before_any_work(tmp_path, monkeypatch, output, message):
    import superres.inference as inference
    from superres.errors import SuperresError

    source = tmp_path / "in.png"
    write_image(source, _pixels())
    (tmp_path / "folder.png").mkdir()
    (tmp_path / "taken.png").write_bytes(b"keep me")

    def no_work(*args, **kwargs):
        raise AssertionError("upscaled before the output was checked")

    monkeypatch.setattr(inference, "upscale_array", no_work)
    with pytest.raises(SuperresError, match=message):
        superres.upscale(source, 2, "bicubic", output=tmp_path / output)
    assert (tmp_path / "taken.png").read_bytes() == b"keep me"


def test_a_tensor_without_data_is_refused_in_one_error():
    with pytest.raises(InvalidArgumentError, match="meta device"):
        superres.upscale(torch.zeros(1, 3, 8, 8, device="meta"), 2, "bicubic")
