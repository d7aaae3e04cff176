"""``superres.upscale`` keeps what its docstring promises for each kind of input: the dtype
of float arrays and tensors (float64 stays float64), uint8 tensors resized as the uint8 image
(MATLAB's 8-bit way, like a uint8 array), PIL modes I / I;16B and the DPI, a path's ICC
profile and EXIF, ``output=`` for paths only, a file that appears at the output while the
upscale runs is not replaced; ``list_models`` says "not tileable" for a network without a
finite receptive field."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image, ImageCms

import superres
from superres.errors import InvalidArgumentError, SuperresError
from superres.io import read_image, write_image


def _pixels(h=14, w=17, c=3, dtype=np.uint8, seed=0):
    top = 255 if dtype == np.uint8 else 65535
    return (np.random.default_rng(seed).random((h, w, c)) * top).astype(dtype)


def test_output_is_refused_for_inputs_that_are_not_paths(tmp_path):
    for image in (_pixels(), torch.rand(1, 3, 6, 6), Image.fromarray(_pixels())):
        with pytest.raises(InvalidArgumentError, match="output="):
            superres.upscale(image, 2, model="bicubic", output=tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


def test_float64_array_and_tensor_come_back_float64_with_the_float32_values():
    rgb = _pixels().astype(np.float64) / 255
    out = superres.upscale(rgb, 2, model="bicubic")
    assert out.dtype == np.float64 and out.shape == (28, 34, 3)
    np.testing.assert_allclose(out, superres.upscale(rgb.astype(np.float32), 2, model="bicubic"), atol=1e-6)
    t = torch.from_numpy(rgb).permute(2, 0, 1)[None]
    out_t = superres.upscale(t, 2, model="bicubic")
    assert out_t.dtype == torch.float64
    half = superres.upscale(t.to(torch.float16), 2, model="bicubic")
    assert half.dtype == torch.float16


def test_a_uint8_tensor_is_resized_as_the_uint8_image():
    rgb = _pixels(h=20, w=23, seed=3)
    t = torch.from_numpy(rgb).permute(2, 0, 1)[None].contiguous()
    for model in ("bicubic", "lanczos3"):
        from_tensor = superres.upscale(t, 3, model=model)[0].permute(1, 2, 0).numpy()
        assert np.array_equal(from_tensor, superres.upscale(rgb, 3, model=model))


def test_pil_dpi_is_carried():
    im = Image.fromarray(_pixels())
    im.info["dpi"] = (300, 300)
    assert superres.upscale(im, 2, model="bicubic").info.get("dpi") == (300, 300)


def test_pil_mode_i_stays_mode_i_and_refuses_negative_values():
    gray = _pixels(c=1, dtype=np.uint16)[:, :, 0]
    im = Image.fromarray(gray.astype(np.int32))
    assert im.mode == "I"
    out = superres.upscale(im, 2, model="bicubic")
    assert out.mode == "I" and out.size == (34, 28)
    assert np.array_equal(np.asarray(out), superres.upscale(gray, 2, model="bicubic").astype(np.int32))
    negative = gray.astype(np.int32)
    negative[0, 0] = -5
    with pytest.raises(InvalidArgumentError, match="0..65535"):
        superres.upscale(Image.fromarray(negative), 2, model="bicubic")


def test_pil_big_endian_16bit_gray_is_upscaled_as_16bit_gray():
    gray = _pixels(c=1, dtype=np.uint16)[:, :, 0]
    im = Image.frombytes("I;16B", (gray.shape[1], gray.shape[0]), gray.astype(">u2").tobytes())
    out = superres.upscale(im, 2, model="bicubic")
    assert out.mode == "I;16"
    assert np.array_equal(np.asarray(out), superres.upscale(gray, 2, model="bicubic"))


def test_a_path_keeps_its_icc_profile_and_exif(tmp_path):
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    exif = Image.Exif()
    exif[0x010F] = "SuperresTestMake"  # Make
    src = tmp_path / "a.png"
    write_image(src, _pixels(), icc_profile=icc, exif=exif.tobytes())
    out = read_image(superres.upscale(src, 2, model="bicubic"))
    assert out.icc_profile == icc
    assert out.exif is not None
    parsed = Image.Exif()
    parsed.load(out.exif)
    assert parsed.get(0x010F) == "SuperresTestMake"


def test_a_file_that_appears_at_the_output_during_the_upscale_is_not_replaced(tmp_path, monkeypatch):
    import superres.inference as inference

    src, target = tmp_path / "a.png", tmp_path / "b.png"
    write_image(src, _pixels())
    real = inference.upscale_array

    def racing(*args, **kwargs):
        target.write_bytes(b"someone else's file")
        return real(*args, **kwargs)

    monkeypatch.setattr(inference, "upscale_array", racing)
    with pytest.raises(SuperresError):
        superres.upscale(src, 2, model="bicubic", output=target)
    assert target.read_bytes() == b"someone else's file"


def test_list_models_says_untileable_when_a_network_has_no_finite_context(monkeypatch):
    import superres.inference as inference
    from superres.methods.learned import LearnedMethod
    from superres.methods.registry import available_methods

    learned = [m.info.name for m in available_methods() if isinstance(m, LearnedMethod)]
    assert learned
    # untileable at one of the scales it serves (e.g. a global pooling layer): untileable
    monkeypatch.setattr(inference, "receptive_radius", lambda method, scale: None if scale == 2.0 else 7)
    infos = {info.name: info for info in superres.list_models()}
    assert all(infos[name].receptive_radius is None for name in learned)
    assert infos["bicubic"].receptive_radius == 2


def test_max_memory_and_tile_reach_the_pipeline():
    big = np.zeros((600, 600, 3), np.uint8)
    with pytest.raises(SuperresError, match="more than the memory budget"):
        superres.upscale(big, 4, model="bicubic", max_memory="1M")
    with pytest.raises(InvalidArgumentError, match="tile"):
        superres.upscale(_pixels(), 2, model="bicubic", tile=0)
