"""``superres degrade`` and ``superres resize``: the options and edge cases the other CLI tests leave out.

References are made with the public operations (``imresize_matlab``, ``bicubic_downscale``)
or by hand (nearest-neighbour doubling, 16-bit to 8-bit rounding)."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from superres.cli.main import main
from superres.io import read_image, write_image


def _rgb(height, width, seed=0, top=256, dtype=np.uint8):
    return np.random.default_rng(seed).integers(0, top, (height, width, 3)).astype(dtype)


def _one_line_failure(capsys, argv, needle):
    assert main([str(a) for a in argv]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("superres: error:") and "\n" not in err and needle in err, err


# -------------------------------------------------------------------------- degrade


def test_degrade_smallest_side_is_the_scale_multiple(tmp_path, capsys):
    hr = tmp_path / "hr"
    hr.mkdir()
    write_image(hr / "thin.png", _rgb(2, 6))  # 2 pixels: just enough for x2
    assert main(["degrade", str(hr), str(tmp_path / "lr"), "-s", "2"]) == 0
    assert read_image(tmp_path / "lr" / "thin.png").pixels.shape == (1, 3, 3)
    write_image(hr / "thinner.png", _rgb(1, 6))  # 1 pixel: too small
    _one_line_failure(capsys, ["degrade", hr, tmp_path / "lr2", "-s", "2"], "too small for x2")
    assert not (tmp_path / "lr2").exists()


def test_degrade_hr_out_is_the_modcropped_original(tmp_path):
    hr = tmp_path / "hr"
    hr.mkdir()
    pixels = _rgb(9, 11)
    write_image(hr / "a.png", pixels)
    assert main(["degrade", str(hr), str(tmp_path / "lr"), "-s", "2", "--hr-out", str(tmp_path / "hrm")]) == 0
    assert np.array_equal(read_image(tmp_path / "hrm" / "a.png").pixels, pixels[:8, :10])
    assert read_image(tmp_path / "lr" / "a.png").pixels.shape == (4, 5, 3)


def test_degrade_rounds_16_bit_images_to_the_nearest_8_bit_value(tmp_path):
    p8 = _rgb(8, 8, top=255)  # 0..254
    # 257 * v + 128 is v + 0.498 on the 8-bit scale: rounds to v (truncating 16 -> 8 bits gives v + 1 for v >= 128)
    p16 = (p8.astype(np.uint16) * 257 + 128).astype(np.uint16)
    for name, pixels in (("hr8", p8), ("hr16", p16)):
        (tmp_path / name).mkdir()
        write_image(tmp_path / name / "a.png", pixels)
        assert main(["degrade", str(tmp_path / name), str(tmp_path / f"lr-{name}"), "-s", "2",
                     "--hr-out", str(tmp_path / f"hrm-{name}")]) == 0
    assert np.array_equal(read_image(tmp_path / "hrm-hr16" / "a.png").pixels, p8)
    assert np.array_equal(read_image(tmp_path / "lr-hr16" / "a.png").pixels,
                          read_image(tmp_path / "lr-hr8" / "a.png").pixels)


def test_degrade_border_option_is_used(tmp_path):
    from superres.degradation.pipelines import bicubic_downscale

    hr = tmp_path / "hr"
    hr.mkdir()
    pixels = _rgb(12, 16)
    write_image(hr / "a.png", pixels)
    x = torch.from_numpy(pixels).permute(2, 0, 1)[None]
    for border in ("replicate", "symmetric"):
        assert main(["degrade", str(hr), str(tmp_path / border), "-s", "2", "--border", border]) == 0
        expected = bicubic_downscale(x, 2, border=border)[0].permute(1, 2, 0).numpy()
        assert np.array_equal(read_image(tmp_path / border / "a.png").pixels, expected)
    assert not np.array_equal(read_image(tmp_path / "replicate" / "a.png").pixels,
                              read_image(tmp_path / "symmetric" / "a.png").pixels)


def test_degrade_gaussian_needs_an_integer_scale(tmp_path, capsys):
    hr = tmp_path / "hr"
    hr.mkdir()
    write_image(hr / "a.png", _rgb(20, 20))
    _one_line_failure(capsys, ["degrade", hr, tmp_path / "lr", "-s", "2.5", "--degradation", "gaussian"],
                      "needs an integer scale")
    assert not (tmp_path / "lr").exists()


# -------------------------------------------------------------------------- resize


def test_resize_size_must_be_positive_before_the_input_is_read(tmp_path, capsys, monkeypatch):
    import superres.io

    src = tmp_path / "in.png"
    write_image(src, _rgb(8, 8))

    def not_reached(*args, **kwargs):
        raise AssertionError("the input was read before --size was checked")

    monkeypatch.setattr(superres.io, "read_image", not_reached)
    _one_line_failure(capsys, ["resize", src, tmp_path / "o.png", "--size", "0x10"], "must be positive")
    assert not (tmp_path / "o.png").exists()


def test_resize_output_of_exactly_the_pixel_limit_is_allowed(tmp_path, monkeypatch):
    src = tmp_path / "in.png"
    write_image(src, _rgb(24, 26))
    monkeypatch.setenv("SUPERRES_MAX_PIXELS", str(48 * 52))
    assert main(["resize", str(src), str(tmp_path / "o.png"), "-s", "2"]) == 0
    assert Image.open(tmp_path / "o.png").size == (52, 48)


def test_resize_16_bit_rounds_to_nearest(tmp_path):
    from superres.ops.resize import imresize_matlab

    src = tmp_path / "in.png"
    pixels = _rgb(10, 12, top=65536, dtype=np.uint16)
    write_image(src, pixels)
    assert main(["resize", str(src), str(tmp_path / "o.png"), "-s", "1.5", "--kernel", "bilinear"]) == 0
    x = torch.from_numpy(pixels.astype(np.float64)).permute(2, 0, 1)[None]
    y = imresize_matlab(x, 1.5, kernel="bilinear")[0].permute(1, 2, 0).numpy()
    expected = np.clip(np.floor(y + 0.5), 0, 65535).astype(np.uint16)
    got = read_image(tmp_path / "o.png").pixels
    assert got.dtype == np.uint16 and np.array_equal(got, expected)


def test_resize_kernel_option_is_used(tmp_path):
    src = tmp_path / "in.png"
    pixels = _rgb(6, 7)
    write_image(src, pixels)
    assert main(["resize", str(src), str(tmp_path / "o.png"), "-s", "2", "--kernel", "nearest"]) == 0
    assert np.array_equal(read_image(tmp_path / "o.png").pixels, pixels.repeat(2, axis=0).repeat(2, axis=1))


def test_resize_no_antialias_option_is_used(tmp_path):
    from superres.ops.resize import imresize_matlab

    src = tmp_path / "in.png"
    pixels = _rgb(16, 20)
    write_image(src, pixels)
    x = torch.from_numpy(pixels).permute(2, 0, 1)[None]
    for extra, antialias, name in (([], None, "aa.png"), (["--no-antialias"], False, "plain.png")):
        assert main(["resize", str(src), str(tmp_path / name), "-s", "0.5", *extra]) == 0
        expected = imresize_matlab(x, 0.5, antialias=antialias)[0].permute(1, 2, 0).numpy()
        assert np.array_equal(read_image(tmp_path / name).pixels, expected)
    assert not np.array_equal(read_image(tmp_path / "aa.png").pixels, read_image(tmp_path / "plain.png").pixels)


def test_resize_carries_icc_and_exif(tmp_path):
    src = tmp_path / "in.png"
    exif = Image.Exif()
    exif[0x010F] = "TestCam"
    icc = b"\0" * 128 + b"carried as is"
    Image.fromarray(_rgb(8, 8)).save(src, exif=exif.tobytes(), icc_profile=icc)
    assert main(["resize", str(src), str(tmp_path / "o.png"), "-s", "2"]) == 0
    with Image.open(tmp_path / "o.png") as im:
        assert im.info.get("icc_profile") == icc and im.getexif().get(0x010F) == "TestCam"


def test_resize_budget_counts_16_bit_arithmetic_as_wider():
    from superres.cli.resize import check_resize_size
    from superres.errors import InvalidArgumentError

    def fits(itemsize, budget):
        try:
            check_resize_size(100, 100, 3, itemsize, 200, 200, max_memory=budget)
            return True
        except InvalidArgumentError:
            return False

    low, high = 1, 1 << 30  # the smallest budget an 8-bit resize fits in
    while low < high:
        mid = (low + high) // 2
        low, high = (low, mid) if fits(1, mid) else (mid + 1, high)
    # 16-bit pixels are resized in float64, 8-bit ones in float32: well over 1.5 times the memory
    assert fits(1, low) and not fits(2, 3 * low // 2)


def test_resize_budget_follows_the_kernel_asked_for(tmp_path, capsys):
    src = tmp_path / "in.png"
    Image.fromarray(np.zeros((100, 100, 3), dtype=np.uint8)).save(src)
    need32 = 3 * (100 * 100 * 4 + 2 * 300 * 300 * 4 + 2 * 300 * 300 * 4 + 300 * 300 * 3)  # x3 in float32
    need32 += 40 * (300 * 6 + 300 * 6) + 3 * 8 * (6 * 100 + 6 * 300)  # the plans: 6 bicubic taps per sample
    argv = ["resize", str(src), str(tmp_path / "out.png"), "-s", "3", "--max-memory", str(need32 + 1)]
    assert main(argv + ["-k", "lanczos3"]) == 1  # Lanczos: float64, twice the arithmetic
    assert "memory budget" in capsys.readouterr().err
    assert main(argv + ["-k", "bicubic"]) == 0


def test_degrade_that_fails_on_a_damaged_file_leaves_no_half_made_set(tmp_path, capsys, monkeypatch):
    hr = tmp_path / "hr"
    hr.mkdir()
    for name in ("a.png", "b.png"):
        Image.fromarray(np.random.default_rng(0).integers(0, 256, (40, 40, 3), dtype=np.uint8)).save(hr / name)
    whole = (hr / "a.png").read_bytes()
    (hr / "z.png").write_bytes(whole[: len(whole) // 2])  # a good header, half the pixels
    lr = tmp_path / "lr"
    assert main(["degrade", str(hr), str(lr), "-s", "2"]) == 1
    assert "z.png" in capsys.readouterr().err
    assert not lr.exists() or not any(lr.iterdir())
    # above the pixel limit: refused before the first file, too
    (hr / "z.png").unlink()
    monkeypatch.setenv("SUPERRES_MAX_PIXELS", "1000")
    assert main(["degrade", str(hr), str(lr), "-s", "2"]) == 1
    assert "above the limit" in capsys.readouterr().err and not any(lr.iterdir())


def test_resize_by_a_tiny_factor_is_refused_in_one_line_not_by_the_allocator(tmp_path, capsys):
    # 1e-9 of 53 pixels is one output sample whose antialiased kernel reads 4e9 taps
    write_image(tmp_path / "in.png", _rgb(37, 53))
    assert main(["resize", str(tmp_path / "in.png"), str(tmp_path / "out.png"), "-s", "1e-9"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "more than the memory budget" in err[0]
    assert not (tmp_path / "out.png").exists()
    assert main(["resize", str(tmp_path / "in.png"), str(tmp_path / "out.png"), "-s", "1e-5"]) == 0  # 1x1, fits
