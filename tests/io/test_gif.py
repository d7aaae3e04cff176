"""GIF is read (its first frame; palette and transparency resolved) but never written: an
upscaled image in 256 colours would undo the upscale, so its output is a PNG by default."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import superres
from superres.cli.main import main
from superres.errors import ImageWriteError
from superres.io import check_extension, read_image


def _rgb(seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).random((18, 22, 3)) * 255).astype(np.uint8)


def _gif(path: Path, frames: int = 1, transparent: bool = False) -> Image.Image:
    pictures = [Image.fromarray(np.roll(_rgb(), i, axis=1)).quantize(32) for i in range(frames)]
    options = {"transparency": 0} if transparent else {}
    pictures[0].save(path, save_all=frames > 1, append_images=pictures[1:], **options)
    return pictures[0]


def test_a_gif_reads_as_its_first_frame_in_rgb(tmp_path):
    first = _gif(tmp_path / "anim.gif", frames=3)
    image = read_image(tmp_path / "anim.gif")
    assert image.format == "GIF" and image.frames == 3
    np.testing.assert_array_equal(image.pixels, np.asarray(first.convert("RGB")))


def test_a_transparent_gif_reads_with_alpha(tmp_path):
    _gif(tmp_path / "clear.gif", transparent=True)
    pixels = read_image(tmp_path / "clear.gif").pixels
    palette_zero = pixels[..., 3] == 0
    assert pixels.shape == (18, 22, 4) and palette_zero.any() and (pixels[..., 3] == 255).any()


def test_a_gray_gif_upscales_to_a_gray_png(tmp_path):
    gray = (np.random.default_rng(2).random((18, 22)) * 255).astype(np.uint8)
    quantized = Image.fromarray(gray).convert("RGB").quantize(16)  # mode P, a palette of grays
    quantized.save(tmp_path / "gray.gif")
    assert Image.open(tmp_path / "gray.gif").mode == "P"
    image = read_image(tmp_path / "gray.gif")
    assert image.mode == "L"
    np.testing.assert_array_equal(image.pixels[..., 0], np.asarray(quantized.convert("L")))
    assert main(["upscale", str(tmp_path / "gray.gif"), "-s", "2", "-m", "bicubic"]) == 0
    assert Image.open(tmp_path / "gray_x2.png").mode == "L"


def test_gif_is_not_written_and_says_so():
    with pytest.raises(ImageWriteError, match="GIF is read but not written"):
        check_extension("out.gif")


def test_upscaling_a_gif_writes_a_png_beside_it(tmp_path, capsys):
    _gif(tmp_path / "anim.gif", frames=2)
    assert main(["upscale", str(tmp_path / "anim.gif"), "-s", "2", "-m", "bicubic"]) == 0
    out = read_image(tmp_path / "anim_x2.png")
    assert out.pixels.shape == (36, 44, 3)
    assert "has 2 frames; only the first is upscaled" in capsys.readouterr().err
    assert superres.upscale(tmp_path / "anim.gif", 3, "bicubic") == tmp_path / "anim_x3.png"


def test_a_folder_batch_picks_up_gifs(tmp_path):
    _gif(tmp_path / "a.gif")
    Image.fromarray(_rgb(1)).save(tmp_path / "b.png")
    assert main(["upscale", str(tmp_path), "-s", "2", "-m", "bicubic", "--out-dir", str(tmp_path / "out")]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.png", "b.png"]
