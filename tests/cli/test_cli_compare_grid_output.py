"""``superres compare``: the grid file: its colour profile, its default zoom, and a file that
appears at its name while the methods run."""

from __future__ import annotations

import struct

import numpy as np
from PIL import Image

from superres.assets import make_sample
from superres.cli.main import main
from superres.io import write_image


def _rgb_profile() -> bytes:
    header = bytearray(128)
    struct.pack_into(">I", header, 0, 132)
    header[12:16], header[16:20], header[20:24], header[36:40] = b"mntr", b"RGB ", b"XYZ ", b"acsp"
    return bytes(header) + struct.pack(">I", 0)  # no tags


def test_the_grid_carries_the_originals_colour_profile(tmp_path, capsys):
    src = tmp_path / "hr.png"
    Image.fromarray(make_sample(64, 48)).save(src, icc_profile=_rgb_profile())
    out = tmp_path / "g.png"
    assert main(["compare", str(src), "-m", "bicubic", "-s", "2", "-o", str(out)]) == 0
    with Image.open(out) as im:
        assert im.info.get("icc_profile") == _rgb_profile()


def test_the_default_zoom_fits_the_longer_side_of_the_crop(tmp_path, capsys):
    src = tmp_path / "hr.png"
    write_image(src, make_sample(64, 48))
    out = tmp_path / "g.png"
    # a 30x20 crop: zoom 240 // 30 = 8, panels 240x160, two panels side by side, padding 8
    assert main(["compare", str(src), "-m", "bicubic", "-s", "2", "--crop", "0,0,30,20", "-o", str(out)]) == 0
    with Image.open(out) as im:
        assert im.size[0] == 2 * 240 + 3 * 8


def test_a_file_that_appears_at_the_grids_name_during_the_work_is_kept(tmp_path, capsys, monkeypatch):
    import superres.inference

    src = tmp_path / "hr.png"
    write_image(src, make_sample(64, 48))
    out = tmp_path / "g.png"
    real = superres.inference.upscale_tensor

    def upscale_then_another_writer(*args, **kwargs):
        out.write_bytes(b"another writer")
        return real(*args, **kwargs)

    monkeypatch.setattr(superres.inference, "upscale_tensor", upscale_then_another_writer)
    assert main(["compare", str(src), "-m", "bicubic", "-s", "2", "-o", str(out)]) == 1
    assert "exists" in capsys.readouterr().err
    assert out.read_bytes() == b"another writer"


def test_panels_of_exactly_4096_pixels_are_allowed(tmp_path, capsys):
    src = tmp_path / "hr.png"
    write_image(src, make_sample(64, 48))
    out = tmp_path / "g.png"
    assert main(["compare", str(src), "-m", "bicubic", "-s", "2", "--crop", "0,0,64,1", "--zoom", "64", "-o", str(out)]) == 0
    with Image.open(out) as im:
        assert im.size[0] == 2 * 4096 + 3 * 8
    assert main(["compare", str(src), "-m", "bicubic", "-s", "2", "--crop", "0,0,64,1", "--zoom", "65", "-o",
                 str(tmp_path / "g2.png")]) == 1
    assert "gives panels over 4096 pixels" in capsys.readouterr().err


def test_each_panel_is_the_same_crop_of_its_image_and_labelled_with_its_scores(tmp_path, capsys, monkeypatch):
    import torch
    from PIL import ImageDraw

    from superres.degradation.pipelines import bicubic_downscale
    from superres.evaluation.metrics import quantize_uint8
    from superres.inference import prepare_method, upscale_tensor

    src = tmp_path / "hr.png"
    pixels = make_sample(64, 48)
    write_image(src, pixels)
    out = tmp_path / "g.png"
    drawn = []
    real_text = ImageDraw.ImageDraw.text
    monkeypatch.setattr(ImageDraw.ImageDraw, "text", lambda self, xy, text, *a, **k: drawn.append(text) or real_text(self, xy, text, *a, **k))
    # x3: the original is cropped to 63x48; a 30x12 crop at (20, 30), off the diagonal, zoom 1
    assert main(["compare", str(src), "-m", "bicubic", "-s", "3", "--crop", "20,30,30,12", "--zoom", "1", "-o", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    psnr, ssim = lines[1].split()[1:3]
    assert drawn == ["original", "63x48, x3", "bicubic", f"{psnr} dB / {ssim}"]
    hr = torch.from_numpy(pixels[:48, :63]).permute(2, 0, 1)[None]
    sr = quantize_uint8(upscale_tensor(bicubic_downscale(hr, 3).float() / 255, prepare_method("bicubic", 3), 3,
                                       from_uint8=True))
    with Image.open(out) as im:
        grid = np.asarray(im.convert("RGB"))
    panels = [grid[8:8 + 12, 8:8 + 30], grid[8:8 + 12, 8 + 30 + 8:8 + 30 + 8 + 30]]
    assert np.array_equal(panels[0], pixels[30:42, 20:50])
    assert np.array_equal(panels[1], sr[0, :, 30:42, 20:50].permute(1, 2, 0).numpy())
    assert main(["compare", str(src), "-m", "bicubic", "-s", "3", "--crop", "0,0,64,10", "-o", str(tmp_path / "g2.png")]) == 1
    assert "does not fit in the 63x48 image" in capsys.readouterr().err
