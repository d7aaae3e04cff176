"""Finding the data and the degradation pipelines: edges no other test pinned."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PIL import Image

import superres.degradation.pipelines as pipelines
from superres.data.datasets import (
    benchmark_images,
    cache_dir,
    find_data_dir,
    list_image_files,
    modcrop_multiple,
    training_images,
)
from superres.degradation.pipelines import bicubic_downscale, gaussian_blur_downsample
from superres.errors import DataNotFoundError
from superres.ops.resize import imresize_matlab


def _png(path: Path, size=(12, 10)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (10, 20, 30)).save(path)
    return path


# ---- datasets ---------------------------------------------------------------------------

def test_a_data_folder_with_only_training_images_is_found_in_the_working_folder(tmp_path, monkeypatch):
    _png(tmp_path / "data" / "train" / "T91" / "a.png")
    monkeypatch.delenv("SUPERRES_DATA", raising=False)
    monkeypatch.chdir(tmp_path)
    assert find_data_dir() == Path("data")


def test_upper_case_suffixes_are_images_too(tmp_path):
    _png(tmp_path / "A.PNG")
    _png(tmp_path / "b.Png")
    assert [p.name for p in list_image_files(tmp_path)] == ["A.PNG", "b.Png"]


def test_a_factor_with_a_denominator_above_ten_is_still_a_simple_fraction():
    assert modcrop_multiple(41 / 20) == 41  # x2.05: HR a multiple of 41 -> LR a multiple of 20


def test_a_set_name_is_the_data_folders_set_even_when_a_folder_of_that_name_is_here(tmp_path, monkeypatch):
    data = tmp_path / "data"
    _png(data / "benchmark" / "SetX" / "x2" / "img_001_HR.png")
    _png(tmp_path / "SetX" / "local.png")  # a folder of the same name in the working folder
    monkeypatch.chdir(tmp_path)
    images = benchmark_images("SetX", 2, data_dir=data)
    assert [im.hr_path for im in images] == [data / "benchmark" / "SetX" / "x2" / "img_001_HR.png"]


def test_training_sets_may_be_given_comma_separated(tmp_path):
    t91 = _png(tmp_path / "train" / "T91" / "t.png")
    bsd = _png(tmp_path / "train" / "BSD200" / "b.png")
    assert training_images("T91,BSD200", data_dir=tmp_path) == [t91, bsd]
    assert training_images(["T91,BSD200"], data_dir=tmp_path) == [t91, bsd]


def test_a_training_folder_without_images_is_a_data_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataNotFoundError, match="no training images"):
        training_images(str(tmp_path / "empty"))


def test_the_cache_folder_follows_superres_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SUPERRES_CACHE", str(tmp_path / "c"))
    assert cache_dir() == tmp_path / "c"


def test_the_lr_of_an_hr_image_whose_name_holds_hr_twice(tmp_path):
    folder = tmp_path / "S" / "x2"
    hr = _png(folder / "a_HR_b_HR.png")
    lr = _png(folder / "a_HR_b_LR.png")
    [image] = benchmark_images(str(tmp_path / "S"), 2)
    assert (image.name, image.hr_path, image.lr_path) == ("a_HR_b", hr, lr)


# ---- degradation ------------------------------------------------------------------------

def test_an_integer_bicubic_downscale_takes_the_border_asked_for():
    hr = torch.rand(1, 1, 16, 18, dtype=torch.float64)
    symmetric = bicubic_downscale(hr, 2, border="symmetric")
    torch.testing.assert_close(symmetric, imresize_matlab(hr, 0.5, border="symmetric"), rtol=0, atol=0)
    assert not torch.equal(symmetric, bicubic_downscale(hr, 2))


def test_an_integer_bicubic_downscale_of_an_uncropped_image_is_imresize_by_one_over_s():
    hr = torch.rand(1, 1, 13, 17, dtype=torch.float64)
    torch.testing.assert_close(bicubic_downscale(hr, 2), imresize_matlab(hr, 0.5), rtol=0, atol=0)


def test_a_fractional_size_that_is_whole_is_not_rounded_up_by_float_error():
    # 21 / 1.4 is 15.000000000000002 in floating point
    assert bicubic_downscale(torch.rand(1, 1, 21, 21, dtype=torch.float64), 1.4).shape[-2:] == (15, 15)


def test_gaussian_uint8_output_rounds_exact_halves_away_from_zero(monkeypatch):
    monkeypatch.setattr(pipelines, "gaussian_blur", lambda x, sigma: x + 0.5)  # every value an exact half
    image = torch.tensor([[[[2, 3], [4, 5]]]], dtype=torch.uint8)
    out = gaussian_blur_downsample(image, 2)
    assert out.dtype == torch.uint8 and out.flatten().tolist() == [6]  # pixel (1, 1): 5.5 -> 6
    image = torch.tensor([[[[0, 0], [0, 2]]]], dtype=torch.uint8)
    assert gaussian_blur_downsample(image, 2).flatten().tolist() == [3]  # 2.5 -> 3, not 2 (half to even)


def test_gaussian_keeps_the_float_type_of_its_input():
    assert gaussian_blur_downsample(torch.rand(1, 1, 8, 8), 2).dtype == torch.float32
    assert gaussian_blur_downsample(torch.rand(1, 1, 8, 8, dtype=torch.float16), 2).dtype == torch.float16
