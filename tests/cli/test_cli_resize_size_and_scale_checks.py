"""``superres resize``: what --scale and --size accept and refuse, and that the output has the size asked for.

An infinite factor is a usage error (status 2, one line naming --scale), as 0 and nan are;
``--size`` takes an upper-case X as well as a lower-case one."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from superres.cli.main import main
from superres.io import write_image


def _rgb(height, width, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3)).astype(np.uint8)


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
