"""Finding data: the modcrop multiple of a factor, the data folder's search order, and the
benchmark and training sets read from a folder laid out like ``shared/data`` (made here)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image

from superres.data.datasets import benchmark_images, find_data_dir, list_image_files, modcrop_multiple, training_images
from superres.errors import DataNotFoundError, InvalidArgumentError


@pytest.mark.parametrize("scale, multiple", [(2, 2), (3.0, 3), (4, 4), (8, 8), (2.5, 5), (1.5, 3), (4 / 3, 4), (3.2, 16)])
def test_modcrop_multiple_is_the_numerator_of_the_factor(scale, multiple):
    assert modcrop_multiple(scale) == multiple
    assert (multiple / scale) == pytest.approx(round(multiple / scale))  # HR multiple / scale is whole


@pytest.mark.parametrize("scale", [math.pi, 2.501, 2 ** 0.5])
def test_modcrop_multiple_refuses_factors_that_are_not_simple_fractions(scale):
    with pytest.raises(InvalidArgumentError, match="simple fraction"):
        modcrop_multiple(scale)


def _png(path, size=(12, 10)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (10, 20, 30)).save(path)
    return path


@pytest.fixture
def layout(tmp_path):
    root = tmp_path / "data"
    for scale in (2, 3):
        _png(root / "benchmark" / "SetX" / f"x{scale}" / "img_001_HR.png")
        _png(root / "benchmark" / "SetX" / f"x{scale}" / "img_001_LR.png")
        _png(root / "benchmark" / "SetX" / f"x{scale}" / "img_002_HR.png")  # no LR shipped
    _png(root / "train" / "T91" / "t2.png")
    _png(root / "train" / "T91" / "t1.jpg")
    _png(root / "train" / "BSD200" / "b1.png")
    (root / "train" / "T91" / "notes.txt").write_text("not an image")
    return root


def test_explicit_data_dir_wins_over_the_environment(layout, tmp_path, monkeypatch):
    other = tmp_path / "other"
    (other / "benchmark").mkdir(parents=True)
    monkeypatch.setenv("SUPERRES_DATA", str(other))
    assert find_data_dir(layout) == layout
    assert find_data_dir() == other
    monkeypatch.setenv("SUPERRES_DATA", str(tmp_path / "missing"))
    with pytest.raises(DataNotFoundError):
        find_data_dir()


def test_benchmark_scale_folder_gives_modcropped_hr_and_the_shipped_lr(layout):
    images = benchmark_images("setx", 3, data_dir=layout)  # set names match case-insensitively
    folder = layout / "benchmark" / "SetX" / "x3"
    assert [(im.name, im.hr_path, im.lr_path) for im in images] == [
        ("img_001", folder / "img_001_HR.png", folder / "img_001_LR.png"),
        ("img_002", folder / "img_002_HR.png", None),
    ]


def test_benchmark_scale_without_a_folder_takes_the_first_hr_images_uncropped(layout):
    images = benchmark_images("SetX", 2.5, data_dir=layout)
    folder = layout / "benchmark" / "SetX" / "x2"
    assert [(im.name, im.hr_path, im.lr_path) for im in images] == [
        ("img_001", folder / "img_001_HR.png", None),
        ("img_002", folder / "img_002_HR.png", None),
    ]
    with pytest.raises(DataNotFoundError):
        benchmark_images("Set99", 2, data_dir=layout)


def test_training_set_291_is_t91_then_bsd200(layout):
    t91 = [layout / "train" / "T91" / "t1.jpg", layout / "train" / "T91" / "t2.png"]
    bsd = [layout / "train" / "BSD200" / "b1.png"]
    assert training_images("T91", data_dir=layout) == t91
    assert training_images("291", data_dir=layout) == t91 + bsd
    assert training_images(["BSD200", "T91"], data_dir=layout) == bsd + t91
    assert training_images(str(layout / "train" / "BSD200")) == bsd
    with pytest.raises(DataNotFoundError):
        training_images("General100", data_dir=layout)


def test_a_folder_lists_every_format_superres_reads(tmp_path):
    for name in ("a.png", "b.gif", "c.webp"):
        Image.fromarray(np.zeros((4, 4, 3), dtype=np.uint8)).save(tmp_path / name)
    (tmp_path / "notes.txt").write_text("not an image")
    assert [p.name for p in list_image_files(tmp_path)] == ["a.png", "b.gif", "c.webp"]


def test_two_images_of_one_name_are_refused(tmp_path):
    # a.png and a.bmp were both "a": the report listed two "a" rows and the web page paired
    # one's ground truth with the other's output
    pixels = np.zeros((16, 16, 3), np.uint8)
    plain = tmp_path / "plain"
    plain.mkdir()
    Image.fromarray(pixels).save(plain / "a.png")
    Image.fromarray(pixels).save(plain / "a.bmp")
    Image.fromarray(pixels).save(plain / "b.png")
    with pytest.raises(InvalidArgumentError, match="'a.bmp' and 'a.png' .* are both named 'a'"):
        benchmark_images(str(plain), 2)
    laid_out = tmp_path / "laid-out" / "x2"
    laid_out.mkdir(parents=True)
    Image.fromarray(pixels).save(laid_out / "img_HR.png")
    Image.fromarray(pixels).save(laid_out / "img_HR.bmp")
    for scale in (2, 3):  # its x2 folder, and its HR images for a scale without a folder
        with pytest.raises(InvalidArgumentError, match="are both named 'img'"):
            benchmark_images(str(laid_out.parent), scale)
    (plain / "a.bmp").unlink()
    assert [i.name for i in benchmark_images(str(plain), 2)] == ["a", "b"]
