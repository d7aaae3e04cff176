"""``superres degrade``: refusals that must come before any image is decoded or written.

An image above the pixel limit (from its header), an output name that is a folder, and an
output that is a link to its own HR image are each refused with one line, exit status 1,
without decoding any image and without writing any file."""

from __future__ import annotations

import os

import numpy as np
import pytest

from superres.cli.main import main
from superres.io import write_image


def _rgb(height, width, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3)).astype(np.uint8)


@pytest.fixture
def no_decoding(monkeypatch):
    import superres.io

    def not_reached(*args, **kwargs):
        raise AssertionError("an image was decoded before the refusal")

    monkeypatch.setattr(superres.io, "read_image", not_reached)


def _refused(capsys, argv, needle):
    assert main([str(a) for a in argv]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("superres: error:") and "\n" not in err and needle in err, err


def test_an_image_above_the_pixel_limit_is_refused_from_its_header(tmp_path, capsys, monkeypatch, no_decoding):
    hr = tmp_path / "hr"
    hr.mkdir()
    write_image(hr / "a.png", _rgb(8, 8))
    write_image(hr / "b.png", _rgb(8, 12, seed=1))
    monkeypatch.setenv("SUPERRES_MAX_PIXELS", "64")
    _refused(capsys, ["degrade", hr, tmp_path / "lr", "-s", "2"], "is 12x8, above the limit of 64 pixels")
    assert not (tmp_path / "lr").exists()


def test_an_output_name_that_is_a_folder_is_refused_first(tmp_path, capsys, no_decoding):
    hr = tmp_path / "hr"
    hr.mkdir()
    write_image(hr / "a.png", _rgb(8, 8))
    write_image(hr / "b.png", _rgb(8, 8, seed=1))
    (tmp_path / "lr" / "b.png").mkdir(parents=True)
    _refused(capsys, ["degrade", hr, tmp_path / "lr", "-s", "2", "--overwrite"], "is a directory")
    assert sorted(p.name for p in (tmp_path / "lr").iterdir()) == ["b.png"]


def test_an_output_that_is_a_link_to_its_hr_image_is_refused(tmp_path, capsys, no_decoding):
    hr = tmp_path / "hr"
    hr.mkdir()
    write_image(hr / "a.png", _rgb(8, 8))
    original = (hr / "a.png").read_bytes()
    (tmp_path / "lr").mkdir()
    os.link(hr / "a.png", tmp_path / "lr" / "a.png")
    _refused(capsys, ["degrade", hr, tmp_path / "lr", "-s", "2", "--overwrite"], "would replace the input")
    assert (hr / "a.png").read_bytes() == original
    assert os.path.samefile(hr / "a.png", tmp_path / "lr" / "a.png")


@pytest.mark.parametrize("link", [False, True])
def test_an_existing_output_is_refused_first_without_overwrite(tmp_path, capsys, no_decoding, link):
    hr = tmp_path / "hr"
    hr.mkdir()
    write_image(hr / "a.png", _rgb(8, 8))
    write_image(hr / "b.png", _rgb(8, 8, seed=1))
    lr = tmp_path / "lr"
    lr.mkdir()
    if link:  # a dangling link is an existing name too
        (lr / "b.png").symlink_to(tmp_path / "nowhere.png")
    else:
        (lr / "b.png").write_bytes(b"keep me")
    _refused(capsys, ["degrade", hr, lr, "-s", "2"], "exists (use --overwrite)")
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

    hr = tmp_path / "hr"
    hr.mkdir()
    for i in range(3):
        write_image(hr / f"im{i}.png", _rgb(8, 8, seed=i))
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
    hr = tmp_path / "hr"
    hr.mkdir()
    for i in range(3):
        write_image(hr / f"im{i}.png", _rgb(8, 8, seed=i))
    assert main(["degrade", str(hr), str(tmp_path / "lr"), "-s", "2"]) == 0
    assert capsys.readouterr().out.strip() == f"3 images -> {tmp_path / 'lr'} (x2, bicubic)"


def test_a_missing_hr_folder_is_named_in_one_line(tmp_path, capsys):
    _refused(capsys, ["degrade", tmp_path / "nowhere", tmp_path / "lr", "-s", "2"],
             f"{str(tmp_path / 'nowhere')!r} is not a folder")
    assert not (tmp_path / "lr").exists()


def test_gaussian_degradation_gets_the_scale_asked_for(tmp_path):
    import torch

    from superres.degradation.pipelines import get_degradation, modcrop_to_scale
    from superres.io import read_image

    hr = tmp_path / "hr"
    hr.mkdir()
    pixels = _rgb(13, 16)
    write_image(hr / "a.png", pixels)
    assert main(["degrade", str(hr), str(tmp_path / "lr"), "-s", "3", "--degradation", "gaussian"]) == 0
    x = modcrop_to_scale(torch.from_numpy(pixels).permute(2, 0, 1)[None], 3)
    want = get_degradation("gaussian")(x, 3)[0].permute(1, 2, 0).numpy()
    got = read_image(tmp_path / "lr" / "a.png").pixels
    assert got.shape == (4, 5, 3) and np.array_equal(got, want)
