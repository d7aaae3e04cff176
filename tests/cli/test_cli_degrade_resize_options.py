"""``superres degrade`` and ``superres resize``: their options, edge cases and refusals.

References are made with the public operations (``imresize_matlab``, ``bicubic_downscale``)
or by hand (nearest-neighbour doubling, 16-bit to 8-bit rounding)."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from PIL import Image

from superres.cli.main import main
from superres.io import read_image, write_image


def _rgb(height, width, seed=0, top=256, dtype=np.uint8):
    return np.random.default_rng(seed).integers(0, top, (height, width, 3)).astype(dtype)


def _hr_folder(tmp_path, images):
    """``tmp_path / "hr"`` holding ``images`` ({file name: HxWx3 pixels}), written by write_image."""
    hr = tmp_path / "hr"
    hr.mkdir()
    for name, pixels in images.items():
        write_image(hr / name, pixels)
    return hr


def _one_line_failure(capsys, argv, needle):
    assert main([str(a) for a in argv]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("superres: error:") and "\n" not in err and needle in err, err


# -------------------------------------------------------------------------- degrade


def test_degrade_smallest_side_is_the_scale_multiple(tmp_path, capsys):
    hr = _hr_folder(tmp_path, {"thin.png": _rgb(2, 6)})  # 2 pixels: just enough for x2
    assert main(["degrade", str(hr), str(tmp_path / "lr"), "-s", "2"]) == 0
    assert read_image(tmp_path / "lr" / "thin.png").pixels.shape == (1, 3, 3)
    write_image(hr / "thinner.png", _rgb(1, 6))  # 1 pixel: too small
    _one_line_failure(capsys, ["degrade", hr, tmp_path / "lr2", "-s", "2"], "too small for x2")
    assert not (tmp_path / "lr2").exists()


def test_degrade_hr_out_is_the_modcropped_original(tmp_path):
    pixels = _rgb(9, 11)
    hr = _hr_folder(tmp_path, {"a.png": pixels})
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

    pixels = _rgb(12, 16)
    hr = _hr_folder(tmp_path, {"a.png": pixels})
    x = torch.from_numpy(pixels).permute(2, 0, 1)[None]
    for border in ("replicate", "symmetric"):
        assert main(["degrade", str(hr), str(tmp_path / border), "-s", "2", "--border", border]) == 0
        expected = bicubic_downscale(x, 2, border=border)[0].permute(1, 2, 0).numpy()
        assert np.array_equal(read_image(tmp_path / border / "a.png").pixels, expected)
    assert not np.array_equal(read_image(tmp_path / "replicate" / "a.png").pixels,
                              read_image(tmp_path / "symmetric" / "a.png").pixels)


def test_degrade_gaussian_needs_an_integer_scale(tmp_path, capsys):
    hr = _hr_folder(tmp_path, {"a.png": _rgb(20, 20)})
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


# ----- degrade: refusals before any image is decoded, and what a run leaves behind


@pytest.fixture
def no_decoding(monkeypatch):
    import superres.io

    def not_reached(*args, **kwargs):
        raise AssertionError("an image was decoded before the refusal")

    monkeypatch.setattr(superres.io, "read_image", not_reached)


def test_an_image_above_the_pixel_limit_is_refused_from_its_header(tmp_path, capsys, monkeypatch, no_decoding):
    hr = _hr_folder(tmp_path, {"a.png": _rgb(8, 8), "b.png": _rgb(8, 12, seed=1)})
    monkeypatch.setenv("SUPERRES_MAX_PIXELS", "64")
    _one_line_failure(capsys, ["degrade", hr, tmp_path / "lr", "-s", "2"], "is 12x8, above the limit of 64 pixels")
    assert not (tmp_path / "lr").exists()


def test_an_output_name_that_is_a_folder_is_refused_first(tmp_path, capsys, no_decoding):
    hr = _hr_folder(tmp_path, {"a.png": _rgb(8, 8), "b.png": _rgb(8, 8, seed=1)})
    (tmp_path / "lr" / "b.png").mkdir(parents=True)
    _one_line_failure(capsys, ["degrade", hr, tmp_path / "lr", "-s", "2", "--overwrite"], "is a directory")
    assert sorted(p.name for p in (tmp_path / "lr").iterdir()) == ["b.png"]


def test_an_output_that_is_a_link_to_its_hr_image_is_one_line_failure(tmp_path, capsys, no_decoding):
    hr = _hr_folder(tmp_path, {"a.png": _rgb(8, 8)})
    original = (hr / "a.png").read_bytes()
    (tmp_path / "lr").mkdir()
    os.link(hr / "a.png", tmp_path / "lr" / "a.png")
    _one_line_failure(capsys, ["degrade", hr, tmp_path / "lr", "-s", "2", "--overwrite"], "would replace the input")
    assert (hr / "a.png").read_bytes() == original
    assert os.path.samefile(hr / "a.png", tmp_path / "lr" / "a.png")


@pytest.mark.parametrize("link", [False, True])
def test_an_existing_output_is_refused_first_without_overwrite(tmp_path, capsys, no_decoding, link):
    hr = _hr_folder(tmp_path, {"a.png": _rgb(8, 8), "b.png": _rgb(8, 8, seed=1)})
    lr = tmp_path / "lr"
    lr.mkdir()
    if link:  # a dangling link is an existing name too
        (lr / "b.png").symlink_to(tmp_path / "nowhere.png")
    else:
        (lr / "b.png").write_bytes(b"keep me")
    _one_line_failure(capsys, ["degrade", hr, lr, "-s", "2"], "exists (use --overwrite)")
    assert sorted(p.name for p in lr.iterdir()) == ["b.png"]
    assert (lr / "b.png").is_symlink() if link else (lr / "b.png").read_bytes() == b"keep me"


def test_a_failed_run_removes_only_the_files_it_created(tmp_path, capsys):
    from PIL import Image

    hr = tmp_path / "hr"
    hr.mkdir()
    for name in ("a.png", "b.png"):
        Image.fromarray(_rgb(40, 40)).save(hr / name)
    whole = (hr / "a.png").read_bytes()
    (hr / "z.png").write_bytes(whole[: len(whole) // 2])  # a good header, half the pixels: fails in the loop
    lr = tmp_path / "lr"
    lr.mkdir()
    write_image(lr / "a.png", _rgb(4, 4, seed=2))  # there before the run, replaced with --overwrite
    assert main(["degrade", str(hr), str(lr), "-s", "2", "--overwrite"]) == 1
    assert "z.png" in capsys.readouterr().err
    assert sorted(p.name for p in lr.iterdir()) == ["a.png"]  # b.png (made by this run) is gone, a.png stays


def test_ctrl_c_during_the_run_removes_the_files_it_made(tmp_path, capsys, monkeypatch):
    import superres.io

    hr = _hr_folder(tmp_path, {f"im{i}.png": _rgb(8, 8, seed=i) for i in range(3)})
    real_write, calls = superres.io.write_image, []

    def interrupted_on_the_second(*args, **kwargs):
        calls.append(args[0])
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_write(*args, **kwargs)

    monkeypatch.setattr(superres.io, "write_image", interrupted_on_the_second)
    assert main(["degrade", str(hr), str(tmp_path / "lr"), "-s", "2"]) == 130
    assert "interrupted" in capsys.readouterr().err
    assert not any((tmp_path / "lr").iterdir())


def test_the_summary_counts_the_images(tmp_path, capsys):
    hr = _hr_folder(tmp_path, {f"im{i}.png": _rgb(8, 8, seed=i) for i in range(3)})
    assert main(["degrade", str(hr), str(tmp_path / "lr"), "-s", "2"]) == 0
    assert capsys.readouterr().out.strip() == f"3 images -> {tmp_path / 'lr'} (x2, bicubic)"


def test_a_missing_hr_folder_is_named_in_one_line(tmp_path, capsys):
    _one_line_failure(capsys, ["degrade", tmp_path / "nowhere", tmp_path / "lr", "-s", "2"],
             f"{str(tmp_path / 'nowhere')!r} is not a folder")
    assert not (tmp_path / "lr").exists()


def test_gaussian_degradation_gets_the_scale_asked_for(tmp_path):
    import torch

    from superres.degradation.pipelines import get_degradation, modcrop_to_scale
    from superres.io import read_image

    pixels = _rgb(13, 16)
    hr = _hr_folder(tmp_path, {"a.png": pixels})
    assert main(["degrade", str(hr), str(tmp_path / "lr"), "-s", "3", "--degradation", "gaussian"]) == 0
    x = modcrop_to_scale(torch.from_numpy(pixels).permute(2, 0, 1)[None], 3)
    want = get_degradation("gaussian")(x, 3)[0].permute(1, 2, 0).numpy()
    got = read_image(tmp_path / "lr" / "a.png").pixels
    assert got.shape == (4, 5, 3) and np.array_equal(got, want)


# ------------------------- resize: what --scale and --size accept and refuse


@pytest.mark.parametrize("factor", ["inf", "-inf", "Infinity"])
def test_an_infinite_scale_is_a_usage_error(tmp_path, capsys, factor):
    src = tmp_path / "in.png"
    write_image(src, _rgb(4, 5))
    with pytest.raises(SystemExit) as exc:
        main(["resize", str(src), str(tmp_path / "o.png"), f"--scale={factor}"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "--scale" in err and "Traceback" not in err, err
    assert not (tmp_path / "o.png").exists()


def test_size_takes_an_upper_case_x(tmp_path, capsys):
    src = tmp_path / "in.png"
    write_image(src, _rgb(6, 8))
    assert main(["resize", str(src), str(tmp_path / "o.png"), "--size", "3X5"]) == 0
    assert Image.open(tmp_path / "o.png").size == (5, 3)  # (width, height): HxW was 3x5


def test_an_existing_output_is_refused_before_the_input_is_read(tmp_path, capsys, monkeypatch):
    import superres.io

    src, out = tmp_path / "in.png", tmp_path / "o.png"
    write_image(src, _rgb(4, 4))
    out.write_bytes(b"keep")

    def not_reached(*args, **kwargs):
        raise AssertionError("the input was read before the existing output was refused")

    monkeypatch.setattr(superres.io, "read_image", not_reached)
    assert main(["resize", str(src), str(out), "-s", "2"]) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "exists (use --overwrite)" in err, err
    assert out.read_bytes() == b"keep"


def test_a_refusal_names_the_output_size_width_first(tmp_path, capsys, monkeypatch):
    src = tmp_path / "in.png"
    write_image(src, _rgb(3, 5))  # 5 wide, 3 high
    monkeypatch.setenv("SUPERRES_MAX_PIXELS", "59")
    assert main(["resize", str(src), str(tmp_path / "o.png"), "-s", "2"]) == 1
    err = capsys.readouterr().err.strip()
    assert "(5x3) to 10x6 gives 60 pixels" in err, err
    assert not (tmp_path / "o.png").exists()


def test_an_output_too_wide_for_its_format_is_refused_before_the_resize(tmp_path, capsys, monkeypatch):
    import superres.cli.resize

    def not_reached(*args, **kwargs):
        raise AssertionError("resized before the output format was checked")

    src = tmp_path / "in.png"
    write_image(src, _rgb(1, 2))
    monkeypatch.setattr(superres.cli.resize, "resize_pixels", not_reached)
    assert main(["resize", str(src), str(tmp_path / "o.webp"), "--size", "1x20000", "-k", "nearest"]) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "o.webp" in err and "20000x1" in err, err
    assert not (tmp_path / "o.webp").exists()


def test_the_border_option_reaches_the_resize(tmp_path):
    import torch

    from superres.io import read_image
    from superres.ops.resize import imresize_matlab

    src = tmp_path / "in.png"
    pixels = _rgb(6, 7)
    write_image(src, pixels)
    x = torch.from_numpy(pixels).permute(2, 0, 1)[None]
    outs = {}
    for border in ("replicate", "symmetric"):
        out = tmp_path / f"{border}.png"
        assert main(["resize", str(src), str(out), "-s", "0.5", "--border", border]) == 0
        outs[border] = read_image(out).pixels
        want = imresize_matlab(x, 0.5, border=border)[0].permute(1, 2, 0).numpy()
        assert np.array_equal(outs[border], want), border
    assert not np.array_equal(outs["replicate"], outs["symmetric"])


def test_the_summary_line_gives_width_then_height(tmp_path, capsys):
    src, out = tmp_path / "in.png", tmp_path / "o.png"
    write_image(src, _rgb(5, 7))  # 7 wide, 5 high
    assert main(["resize", str(src), str(out), "-s", "2"]) == 0
    assert capsys.readouterr().out.strip() == f"{src} 7x5 -> {out} 14x10 (width x height)"
